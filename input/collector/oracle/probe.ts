// --fluent-bit-http auto: whether the shipped pipeline's HTTP server (127.0.0.1:2020) may serve as the restart oracle
// of a collector that forwards to the shipped forward port on loopback. It is used only when a Fluent Bit there lists
// the collector's input (the shipped Alias, --fluent-bit-input) and answers its uptime: anything else is not trusted,
// since its uptime would confirm acks that another Fluent Bit gave. Fluent Bit may be starting with the collector
// (a pod, a compose file, a boot): when nothing answers, the probe waits until the forward input listens, then gives
// the HTTP server a moment to answer, and only then says that nothing answers there.
import { connect } from 'node:net';
import type { Clock } from '../../types.js';
import { FluentBitHttpError, fluentBitUrl, type FluentBitHttpTarget } from './http.js';
import { FluentBitInputMissingError, FluentBitRecords } from './records.js';
import { FluentBitUptime } from './uptime.js';

export interface ProbeOptions {
  readonly http: FluentBitHttpTarget;
  /** --fluent-bit-input. */
  readonly input: string;
  /** --forward (TCP): whether Fluent Bit is up at all. */
  readonly forward: FluentBitHttpTarget;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  /** How long to wait for the forward input to listen when nothing answers (default 30 s). */
  readonly waitForForwardMs?: number;
  /** Once the forward input listens, how long the HTTP server may take to answer (default 2 s). */
  readonly graceMs?: number;
}

/** Use it, or why not: a warning for the log, which names the fix. */
export type ProbeVerdict = { readonly use: true } | { readonly use: false; readonly reason: string };

type Answer = { readonly kind: 'fluent-bit' } | { readonly kind: 'nothing' | 'other' | 'missing'; readonly err: Error };

export async function probeShippedHttp(o: ProbeOptions): Promise<ProbeVerdict> {
  const records = new FluentBitRecords(o.http, o.input, o.clock, 2000);
  const uptime = new FluentBitUptime(o.http, o.clock, 2000);
  let answer = await ask(records, uptime, o.clock);
  if (answer.kind === 'nothing') {
    const waitUntil = o.clock.now() + (o.waitForForwardMs ?? 30_000);
    while (!o.signal?.aborted && !(await listens(o.forward)) && o.clock.now() < waitUntil) await pause(o, 500);
    const graceUntil = o.clock.now() + (o.graceMs ?? 2_000);
    for (;;) {
      answer = await ask(records, uptime, o.clock);
      if (answer.kind !== 'nothing' || o.clock.now() >= graceUntil || o.signal?.aborted) break;
      await pause(o, 250);
    }
  }
  return verdict(answer, o);
}

/** A stop while the probe waits ends the wait: the verdict is given from what answered so far. */
const pause = (o: ProbeOptions, ms: number): Promise<void> => o.clock.sleep(ms, o.signal).catch(() => undefined);

async function ask(records: FluentBitRecords, uptime: FluentBitUptime, clock: Clock): Promise<Answer> {
  try {
    await records.read();
    await uptime.answer(clock.now());
    return { kind: 'fluent-bit' };
  } catch (err) {
    if (err instanceof FluentBitInputMissingError) return { kind: 'missing', err };
    if (err instanceof FluentBitHttpError) return { kind: err.unreachable ? 'nothing' : 'other', err };
    throw err;
  }
}

function verdict(a: Answer, o: ProbeOptions): ProbeVerdict {
  if (a.kind === 'fluent-bit') return { use: true };
  const where = fluentBitUrl(o.http, '');
  const without =
    'running without it: a kill -9 of the collector sends again the events it had in flight (nothing is lost)';
  const fix =
    'set --fluent-bit-http (env FLUENT_BIT_HTTP) to the http_listen:http_port of the Fluent Bit behind --forward';
  const silence = 'or --fluent-bit-http off to run without it and without this warning';
  if (a.kind === 'nothing') {
    return {
      use: false,
      reason:
        `--fluent-bit-http auto: nothing answers at ${where} (the shipped pipeline's HTTP server); ${without}. Turn ` +
        `on Fluent Bit's HTTP server (http_server on, as the shipped fluent-bit.conf does) and ${fix}, ${silence}`,
    };
  }
  if (a.kind === 'missing') {
    return {
      use: false,
      reason:
        `--fluent-bit-http auto: the Fluent Bit at ${where} is not the shipped pipeline's (${a.err.message}), so ` +
        `its answers cannot vouch for the Fluent Bit behind --forward; ${without}. Give the forward input ` +
        `\`Alias ${o.input}\` and ${fix}, ${silence}`,
    };
  }
  return {
    use: false,
    reason:
      `--fluent-bit-http auto: what answers at ${where} is not Fluent Bit's HTTP server (${a.err.message}); ` +
      `${without}. If Fluent Bit's HTTP server listens elsewhere, ${fix}; ${silence}`,
  };
}

/** A TCP connection to the forward input is accepted (then closed at once: Fluent Bit ignores it). */
function listens(target: FluentBitHttpTarget): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: target.host, port: target.port, timeout: 1000 });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}
