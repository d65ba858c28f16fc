// Forward client throughput: encode + send + ack of ~1.5 KB DI-like events into the protocol-level receiver.
// The receiver decodes every record, like in_forward; it runs in a child process so it does not share the
// client's event loop (Fluent Bit is another process in production).
// Run alone: node --import tsx test/bench/forward.bench.ts
import { pathToFileURL } from 'node:url';
import { fork } from 'node:child_process';
import { createForwardClient, Utf8Bytes } from '../../input/forward/index.js';
import { ChunkEncoder } from '../../input/forward/frames.js';
import type { ForwardEntry } from '../../input/types.js';

function events(count: number, size = 1500): ForwardEntry[] {
  const out: ForwardEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e = {
      id: (0x650000000000000000000000n + BigInt(i)).toString(16),
      timestamp: '2026-01-01T00:00:00.123456789Z',
      service: 'directory',
      event_type: 'user_update',
      initiated_by: { id: '5f0c1b2a3d4e5f6a7b8c9d0e', type: 'admin', username: 'admin@example.com' },
      pad: '',
    };
    e.pad = 'x'.repeat(Math.max(0, size - JSON.stringify(e).length));
    out.push({
      time: { sec: 1_767_225_600 + (i % 86400), nsec: 123_456_789 },
      record: { message: new Utf8Bytes(Buffer.from(JSON.stringify(e))) },
    }); // as the collector sends: the raw bytes
  }
  return out;
}

function startReceiverWorker(): Promise<{
  port: number;
  request(m: string): Promise<Record<string, number | boolean>>;
  stop(): Promise<void>;
}> {
  const child = fork(new URL('./forward-receiver.worker.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  });
  const request = (m: string): Promise<Record<string, number | boolean>> =>
    new Promise((resolve) => {
      child.once('message', (x) => resolve(x as Record<string, number | boolean>));
      child.send(m);
    });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m) =>
      resolve({
        port: (m as { port: number }).port,
        request,
        stop: async () => {
          await request('close');
          child.disconnect();
        },
      }),
    );
  });
}

export async function run(): Promise<Record<string, number>> {
  const batch = events(10_000);
  const results: Record<string, number> = {};

  // Encoding alone (no I/O): the cost the collector pays per event on its own thread.
  const enc = new ChunkEncoder({ mode: 'packed', maxChunkBytes: 1_000_000, maxFrameBytes: 6_000_000 });
  for (let w = 0; w < 5; w++) for (const _ of enc.chunks('warm', batch)); // let the JIT settle
  let t0 = process.hrtime.bigint();
  let bytes = 0;
  const rounds = 10;
  for (let r = 0; r < rounds; r++) for (const c of enc.chunks('jumpcloud.directory', batch)) bytes += c.frame.length;
  let sec = Number(process.hrtime.bigint() - t0) / 1e9;
  results['forward_encode_events_per_s'] = Math.round((rounds * batch.length) / sec);
  results['forward_encode_MB_per_s'] = Math.round(bytes / sec / 1e6);

  // Encode + send + ack through TCP into the receiver (another thread), 10,000-event sends, 2 in parallel.
  const receiver = await startReceiverWorker();
  const client = createForwardClient({ target: { kind: 'tcp', host: '127.0.0.1', port: receiver.port } });
  try {
    await client.send('warm', batch.slice(0, 1000));
    const sends = 20;
    const cpu0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < sends) {
          next++;
          await client.send('jumpcloud.directory', batch);
        }
      }),
    );
    sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const { count } = await receiver.request('count');
    if (count !== 1000 + sends * batch.length)
      throw new Error(`receiver stored ${String(count)} records, expected ${1000 + sends * batch.length}`);
    results['forward_send_ack_events_per_s'] = Math.round((sends * batch.length) / sec);
    results['forward_send_ack_MB_per_s'] = Math.round((sends * batch.length * 1500) / sec / 1e6);
    // CPU the client side spent per event (encode + socket writes + ack handling): its share of a core.
    results['forward_client_cpu_us_per_event'] = Number(((cpu.user + cpu.system) / (sends * batch.length)).toFixed(2));
  } finally {
    await client.close(5000);
    await receiver.stop();
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
