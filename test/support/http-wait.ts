// What the fake Elasticsearch and Splunk HEC servers share: waiting for a condition that their requests change.
import type { Server } from 'node:http';

/** Resolves when `predicate` holds, re-checked whenever a request wakes `waiters` (and every 250 ms). */
export async function waitFor(waiters: Array<() => void>, predicate: () => boolean, timeoutMs: number, what: string, who: string): Promise<void> {
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
