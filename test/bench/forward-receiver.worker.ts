// Runs the protocol-level forward receiver in a child process for forward.bench.ts (IPC: 'count', 'close').
import { startForwardReceiver } from '../support/forward-receiver.js';

const r = await startForwardReceiver({});
process.send!({ port: r.port });
process.on('message', (m: string) => {
  if (m === 'count') process.send!({ count: r.records.length });
  if (m === 'close') void r.close().then(() => process.send!({ closed: true }));
});
process.on('disconnect', () => process.exit(0));
