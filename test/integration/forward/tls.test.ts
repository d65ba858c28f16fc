import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForwardClient } from '../../../input/forward/index.js';
import { startForwardReceiver } from '../../support/forward-receiver.js';
import { settled } from '../../support/clock.js';
import { idsOf, makeEntries } from './helpers.js';

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const openssl = haveOpenssl();
if (!openssl)
  console.warn(
    'forward TLS tests skipped: the openssl CLI is not installed (needed to make a self-signed certificate)',
  );

describe.skipIf(!openssl)('forward client over TLS', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fwd-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=fluent-bit.test',
        '-addext',
        'subjectAltName=DNS:fluent-bit.test,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies the server with caFile + servername and delivers with a shared key', async () => {
    const receiver = await startForwardReceiver({
      tls: { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) },
      sharedKey: 'k',
    });
    const client = createForwardClient({
      target: { kind: 'tcp', host: '127.0.0.1', port: receiver.port! },
      tls: { caFile: join(dir, 'cert.pem'), verify: true, servername: 'fluent-bit.test' },
      sharedKey: 'k',
    });
    try {
      const entries = makeEntries(30);
      await client.send('t', entries);
      expect(receiver.ids()).toEqual(idsOf(entries));
      expect(receiver.stats.pingSplit).toBe(0);
    } finally {
      await client.close(1000);
      await receiver.close();
    }
  });

  it('refuses an unverifiable certificate (keeps retrying, says why), and verify: false accepts it', async () => {
    const receiver = await startForwardReceiver({
      tls: { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) },
    });
    const errors: string[] = [];
    const strict = createForwardClient({
      target: { kind: 'tcp', host: '127.0.0.1', port: receiver.port! },
      tls: { verify: true },
      backoff: { baseMs: 10, maxMs: 20 },
      hooks: { onReconnect: (i) => errors.push(i.error ?? '') },
    });
    const loose = createForwardClient({
      target: { kind: 'tcp', host: '127.0.0.1', port: receiver.port! },
      tls: { verify: false },
    });
    try {
      const pending = strict.send('t', makeEntries(1)).catch((e: unknown) => e);
      await loose.send('t', makeEntries(2, { prefix: 'l' }));
      while (errors.length === 0) await settled(1); // the strict client's first failed attempt
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]).toMatch(/certificate/);
      expect(errors[0]).toMatch(/caFile/);
      expect(await strict.close(50)).toBe(false);
      expect(((await pending) as Error).name).toBe('ForwardClosedError');
      expect(receiver.ids()).toEqual(['l0000000000', 'l0000000001']);
    } finally {
      await loose.close(1000);
      await receiver.close();
    }
  });

  it('says which TLS file cannot be read', () => {
    expect(() =>
      createForwardClient({
        target: { kind: 'tcp', host: '127.0.0.1', port: 1 },
        tls: { caFile: join(dir, 'missing.pem') },
      }),
    ).toThrow(/cannot read the TLS CA file ".*missing\.pem"/);
  });
});
