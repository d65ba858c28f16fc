// What the fake Elasticsearch and Splunk HEC servers share: waiting for a condition that their requests change.
import { request, type Server } from 'node:http';

/** Resolves when `predicate` holds, re-checked whenever a request wakes `waiters` (and every 250 ms). */
export async function waitFor(
  waiters: Array<() => void>,
  predicate: () => boolean,
  timeoutMs: number,
  what: string,
  who: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`${who}: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.min(left, 250));
      waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** GET http://127.0.0.1:port/path without keep-alive: the status and the body as text. */
export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (d: string) => (body += d))
        .on('end', () => resolve({ status: res.statusCode!, body }));
    })
      .on('error', reject)
      .end();
  });
}
