// Errors are told apart by their stable `code` and `fatal` flag, never by class name; the README lists every code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ArgvError } from '../../../input/argv.js';
import { StateLockedError, StateLockError } from '../../../input/collector/state/lock.js';
import { StateDirError } from '../../../input/collector/state/files.js';
import { StateError } from '../../../input/collector/state/state.js';
import { TimestampError } from '../../../input/collector/state/timestamp.js';
import { FluentBitHttpError } from '../../../input/collector/oracle/http.js';
import { FluentBitInputMissingError } from '../../../input/collector/oracle/records.js';
import { LedgerUnstableError } from '../../../input/collector/oracle/send-ledger.js';
import { ConfigError } from '../../../input/config.js';
import { BudgetAbortedError } from '../../../input/di/byte-budget.js';
import { ShardSpecError } from '../../../input/shard.js';
import {
  DiBadPageError,
  DiBodyLengthError,
  DiError,
  DiFatalError,
  DiQueryError,
  DiRetriesExhaustedError,
  DiTransientError,
} from '../../../input/di/errors.js';
import { networkFault } from '../../../input/di/http-faults.js';
import { DurationError } from '../../../input/duration.js';
import { errorCode, isAbortError, isFatal, JumpCloudError } from '../../../input/errors.js';
import { ConnectionClosedError } from '../../../input/forward/connection.js';
import {
  ForwardAuthError,
  ForwardClosedError,
  ForwardConfigError,
  ForwardConnectionError,
  ForwardDeliveryTimeoutError,
  ForwardEncodeError,
  ForwardError,
  ForwardRecordTooLargeError,
  ForwardUnsettledError,
} from '../../../input/forward/errors.js';
import { MsgpackScanError } from '../../../input/forward/msgpack-scan.js';
import { MetricsServerError } from '../../../input/metrics-server.js';

const transient = new DiTransientError('503', 'http_503', 503);
const ours: Array<[Error & { code: string; fatal: boolean }, boolean]> = [
  [new DiFatalError('401', 401), true],
  [new DiQueryError('start after end'), true],
  [transient, false],
  [new DiBadPageError('not an array'), false],
  [new DiRetriesExhaustedError(3, transient), false],
  [new DiBodyLengthError('short'), false],
  [new ForwardAuthError('key', 'shared_key'), true],
  [new ForwardConfigError('bad'), true],
  [new ForwardRecordTooLargeError('big', 0, 7_000_000), true],
  [new ForwardEncodeError('time'), true],
  [new ForwardClosedError('closed'), true],
  [new ForwardDeliveryTimeoutError('nothing acked'), true],
  [new ForwardConnectionError('reset'), false],
  [new ConnectionClosedError('closed'), false],
  [new ForwardUnsettledError('unsettled', 3), false],
  [new StateError('/s/x.json', 'bad JSON', 'restore the backup'), true],
  [new StateDirError('/s', 'cannot write /s'), true],
  [new StateLockedError('/s', undefined), true],
  [new StateLockError('read-only file system'), true],
  [new ConfigError('bad --lag'), true],
  [new ArgvError('unknown option'), true],
  [new DurationError('bad duration'), true],
  [new MetricsServerError('in use'), true],
  [new TimestampError('x', 'bad'), false],
  [new MsgpackScanError('bad'), false],
  [new FluentBitHttpError('no answer'), false],
  [new FluentBitInputMissingError('jumpcloud_forward', ['forward.0'], 'http://127.0.0.1:2020/api/v1/metrics'), false],
  [new LedgerUnstableError('kept moving'), false],
  [new ShardSpecError('bad shard'), true],
  [new BudgetAbortedError('stopped'), false],
];

describe('error classification', () => {
  it("every class has its own stable code (none of undici's) and the right fatal flag", () => {
    const codes = ours.map(([e]) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [e, fatal] of ours) {
      expect(e.code).toMatch(/^[A-Z][A-Z_]+$/);
      expect(e.code.startsWith('UND_ERR')).toBe(false);
      expect(isFatal(e), e.code).toBe(fatal);
    }
  });

  it('does not depend on the class name', () => {
    const e = new ForwardAuthError('key', 'shared_key');
    Object.defineProperty(e, 'name', { value: 'Renamed' });
    expect(isFatal(e)).toBe(true);
    const u = new ForwardUnsettledError('unsettled', 1);
    Object.defineProperty(u, 'name', { value: 'Error' });
    expect(errorCode(u)).toBe('FORWARD_UNSETTLED');
    // Someone else's error named like ours is not ours.
    expect(isFatal(Object.assign(new Error('x'), { name: 'DiFatalError' }))).toBe(false);
  });

  it('instanceof checks the code: it holds for an error made by another copy of the module, and nothing else', () => {
    const refused = new DiFatalError('401', 401);
    expect(refused instanceof DiFatalError && refused instanceof DiError && refused instanceof JumpCloudError).toBe(
      true,
    );
    expect(refused instanceof DiTransientError || refused instanceof ForwardError).toBe(false);
    const page = new DiBadPageError('not an array');
    expect([page instanceof DiTransientError, page instanceof DiError, page instanceof DiFatalError]).toEqual([
      true,
      true,
      false,
    ]);
    // Another copy of the module: another class, the same code under the same global symbol.
    const copy = Object.setPrototypeOf(new DiFatalError('403', 403), Error.prototype) as Error;
    expect(copy instanceof DiFatalError).toBe(true);
    expect(errorCode(copy)).toBe('DI_REFUSED');
    // Named like ours, or carrying our code as a plain property: not ours.
    expect(Object.assign(new Error('x'), { name: 'DiFatalError', code: 'DI_REFUSED' }) instanceof DiFatalError).toBe(
      false,
    );
    expect(new Error('x') instanceof JumpCloudError).toBe(false);
    expect((null as unknown as object) instanceof DiError).toBe(false);
  });

  it('recognizes aborts by code, and our body-length fault as a truncated page', () => {
    const c = new AbortController();
    c.abort();
    expect(isAbortError(c.signal.reason)).toBe(true);
    expect(isAbortError(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }))).toBe(true);
    expect(isAbortError(new DOMException('t', 'TimeoutError'))).toBe(false);
    expect(isAbortError(new Error('AbortError'))).toBe(false);
    expect(networkFault(new DiBodyLengthError('ended after 3 of 9 bytes'), 'POST /events').reason).toBe('truncated');
  });

  it('the README lists every code with its fatal flag', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const rows = new Map<string, string>();
    for (const line of readme.split('\n')) {
      const cells = line.split('|').map((c) => c.trim());
      if (cells.length < 5 || !cells[1]!.startsWith('`')) continue;
      for (const m of cells[1]!.matchAll(/`([A-Z_]+)`/g)) rows.set(m[1]!, cells[3]!);
    }
    for (const [e, fatal] of ours) expect(rows.get(e.code), e.code).toBe(fatal ? 'yes' : 'no');
  });
});
