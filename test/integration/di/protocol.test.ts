// Answers the simulator never gives: a scripted server checks how the client copes with odd but possible ones.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiClient } from '../../../input/di/client.js';
import { DiFatalError } from '../../../input/di/errors.js';
import type { DiClient } from '../../../input/types.js';
import { captureLogger, manualClock } from '../../support/simulator.js';
import { settled } from '../../support/clock.js';

type Handler = (body: Record<string, unknown>, res: ServerResponse, n: number) => void;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function scripted(
  handler: Handler,
): Promise<{ client: DiClient; bodies: Record<string, unknown>[]; log: ReturnType<typeof captureLogger> }> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      bodies.push(body);
      handler(body, res, bodies.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(r)));
  const log = captureLogger();
  const client = createDiClient({
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/insights/directory/v1`,
    auth: { kind: 'apiKey', apiKey: 'k-123456' },
    pageLimit: 2,
    retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 5 },
    clock: manualClock(0),
    logger: log,
  });
  closers.push(() => client.close());
  return { client, bodies, log };
}

const event = (id: string, ts: string) => `{"id":"${id}","timestamp":"${ts}","x":1}`;
const q = { service: 'all', start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' };

async function ids(client: DiClient): Promise<string[]> {
  const out: string[] = [];
  for await (const p of client.pages(q)) out.push(...[...p.events].map((e) => e.id));
  return out;
}

describe('DiClient protocol edges', () => {
  it('continues after the last event when a full page has no X-Search_after', async () => {
    const { client, bodies, log } = await scripted((body, res) => {
      const page = body.search_after
        ? [event('c', '2026-01-01T00:00:03.5Z')]
        : [event('a', '2026-01-01T00:00:01Z'), event('b', '2026-01-01T00:00:02.123456789Z')];
      res.writeHead(200, { 'x-result-count': String(page.length), 'x-limit': '2' });
      res.end(`[${page.join(',')}]`);
    });
    expect(await ids(client)).toEqual(['a', 'b', 'c']);
    expect(bodies[1]!.search_after).toEqual([Date.parse('2026-01-01T00:00:02.123Z'), 'b']);
    expect(log.entries.some((e) => e.level === 'warn' && /no X-Search_after/.test(e.msg ?? ''))).toBe(true);
  });

  it('without headers, stops on a short page by its length', async () => {
    const { client } = await scripted((body, res) => {
      res.writeHead(200);
      res.end(
        body.search_after
          ? `[${event('c', 't3')}]`
          : `[${event('a', '2026-01-01T00:00:01Z')},${event('b', '2026-01-01T00:00:02Z')}]`,
      );
    });
    expect(await ids(client)).toEqual(['a', 'b', 'c']);
  });

  it('retries a page whose X-Result-Count disagrees with its body, or whose cursor is not JSON', async () => {
    const { client } = await scripted((_body, res, n) => {
      if (n === 1) res.writeHead(200, { 'x-result-count': '2', 'x-limit': '2' });
      else if (n === 2) res.writeHead(200, { 'x-result-count': '1', 'x-limit': '2', 'x-search_after': '[17,"a' });
      else res.writeHead(200, { 'x-result-count': '1', 'x-limit': '2', 'x-search_after': '[17,"a"]' });
      res.end(`[${event('a', 't1')}]`);
    });
    expect(await ids(client)).toEqual(['a']);
  });

  it('refuses to loop when the API repeats a cursor', async () => {
    const { client } = await scripted((_body, res) => {
      res.writeHead(200, { 'x-result-count': '2', 'x-limit': '2', 'x-search_after': '[1,"b"]' });
      res.end(`[${event('a', 't1')},${event('b', 't2')}]`);
    });
    await expect(ids(client)).rejects.toThrow(DiFatalError);
  });

  it('shares one caller signal among many calls without piling listeners on it', async () => {
    const { client } = await scripted((_body, res) => {
      res.writeHead(200, { 'x-result-count': '0', 'x-limit': '2' });
      res.end('[]');
    });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const ac = new AbortController();
      await Promise.all(Array.from({ length: 30 }, () => ids(client)));
      await Promise.all(
        Array.from({ length: 30 }, async () => {
          for await (const p of client.pages(q, ac.signal)) expect([...p.events]).toEqual([]);
        }),
      );
      // A warning is emitted on the next tick: a few turns of the event loop would have delivered it.
      await settled();
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
