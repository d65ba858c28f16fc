// A protocol-level stand-in for Fluent Bit's forward input (plugins/in_forward, 5.1), for tests.
// Faithful where clients can tell: Message/Forward/PackedForward/CompressedPackedForward(gzip) modes,
// EventTime or integer times, `{chunk}` → `{ack}` only after the records are stored, the shared-key
// (+ users) handshake with Fluent Bit's exact digests (close without PONG on a key mismatch, PONG false on
// a user mismatch), buffer_max_size, closing on bad input, and pause = close everything + refuse.
// Fault injection is deterministic for a given seed.
import { Decoder, encode, ExtensionCodec } from '@msgpack/msgpack';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { isMsgpackStr, msgpackLength, MsgpackStreamReader } from '../../input/forward/msgpack-scan.js';
import { prng } from '../../input/simulator/render.js';

export interface ReceivedRecord {
  readonly tag: string;
  readonly time: { readonly sec: number; readonly nsec: number };
  readonly record: Record<string, unknown>;
  readonly mode: FrameMode;
}

export type FrameMode = 'message' | 'forward' | 'packed' | 'compressed';

export interface ReceiverFaults {
  /** Probability that a complete frame makes the receiver drop the connection before storing anything. */
  dropProbability?: number;
  /**
   * Probability that a chunk is neither stored nor acked (an input that did not accept it); the connection stays up.
   */
  withholdProbability?: number;
  /**
   * Probability that a chunk is stored and then the connection dies before the ack (a legitimate duplicate on resend).
   */
  loseAckProbability?: number;
  /** Delay before each ack, ms. */
  ackDelayMs?: number;
}

export interface ForwardReceiverOptions {
  /** Listen on a unix socket at this path instead of 127.0.0.1:<random port>. */
  path?: string;
  tls?: { cert: string | Buffer; key: string | Buffer };
  sharedKey?: string;
  users?: ReadonlyArray<{ username: string; password: string }>;
  selfHostname?: string;
  seed?: number;
  faults?: ReceiverFaults;
  /** Fluent Bit's buffer_max_size (default 6,144,000). */
  bufferMaxSize?: number;
  /**
   * Fluent Bit's threaded forward input: acked records wait in a ring buffer that its engine moves into
   * storage every 250 ms; `crash()` (a kill -9) loses what is still in it. Unset: records are stored at once.
   */
  commitEveryMs?: number;
  /**
   * Fluent Bit's HTTP server: GET /api/v1/uptime answers `{"uptime_sec": whole seconds since start}` on
   * 127.0.0.1:<httpPort>. crash() is a restart: the uptime starts again from 0. GET /api/v1/metrics answers
   * `{"input": {"<inputName>": {"records": N, "bytes": B}}}`, N counting the records stored (moved out of the ring,
   * as Fluent Bit's engine counts them when it appends them to a chunk) since the start or the last crash(), B their
   * entries' msgpack bytes (packed modes: the uncompressed body; as Fluent Bit 5.1.1 and 4.2.8 count them).
   */
  httpUptime?: boolean;
  /** The forward input's name in /api/v1/metrics (default jumpcloud_forward, the shipped Alias). */
  inputName?: string;
  /** The clock of the uptime (default the wall clock): a test moves it by hand instead of sleeping. */
  uptimeClock?: { now(): number };
}

export interface ReceiverStats {
  connections: number;
  refused: number;
  frames: number;
  acks: number;
  modes: Record<FrameMode, number>;
  drops: number;
  withheld: number;
  /** Chunks stored whose ack was lost (the connection died between append and ack), and their entries. */
  lostAckChunks: number;
  lostAckEntries: number;
  /** Most chunks stored and awaiting their (delayed) ack at once. */
  maxPendingAcks: number;
  maxFrameBytes: number;
  /** PINGs that did not arrive in one read. */
  pingSplit: number;
  handshakes: number;
}

export interface ForwardReceiver {
  readonly port: number | undefined;
  /** Port of the uptime endpoint (httpUptime), else undefined. */
  readonly httpPort: number | undefined;
  /** Every ack written: Date.now(), the chunk's entries and tag, in order. */
  readonly ackLog: ReadonlyArray<{ readonly at: number; readonly entries: number; readonly tag: string }>;
  readonly path: string | undefined;
  readonly records: ReceivedRecord[];
  readonly stats: ReceiverStats;
  /** Why handshakes failed ("shared_key mismatch", "username/password mismatch", ...). */
  readonly authFailures: string[];
  /** Bad input that made the receiver close a connection, as Fluent Bit would. */
  readonly protocolErrors: string[];
  /** `JSON.parse(record.message).id` of every record, in arrival order. */
  ids(): string[];
  setFaults(faults: ReceiverFaults): void;
  /** The next `n` complete frames drop the connection before being stored. */
  dropNext(n: number): void;
  /** The next `n` chunks are neither stored nor acked. */
  withholdNext(n: number): void;
  /** The next `n` chunks are stored, then the connection dies without their ack. */
  loseAckNext(n: number): void;
  /** Like Fluent Bit pausing its input: close every connection and refuse new ones until resume(). */
  pause(): void;
  /**
   * kill -9 of a threaded Fluent Bit: what the ring buffer holds is lost, every connection closes. Returns the entries
   * lost.
   */
  crash(): number;
  /** Moves what the ring buffer holds into `records` now (the engine's timer firing). */
  commit(): void;
  resume(): void;
  closeAll(): void;
  waitForRecords(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function sha512Hex(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** Encodes a str header + raw bytes (msgpack str carrying arbitrary bytes, as Fluent Bit's HELO does). */
function rawStr(bytes: Uint8Array): Buffer {
  if (bytes.length > 31) throw new Error('rawStr only for short values');
  return Buffer.concat([Buffer.from([0xa0 | bytes.length]), bytes]);
}

class ProtocolError extends Error {}

interface Conn {
  socket: net.Socket;
  reader: MsgpackStreamReader;
  state: 'ping' | 'ready';
  nonce: Buffer;
  auth: Buffer;
  readsSinceHelo: number;
}

const timeCodec = new ExtensionCodec();
timeCodec.register({
  type: 0,
  encode: () => null,
  decode: (data: Uint8Array) => {
    if (data.length !== 8) throw new ProtocolError(`EventTime of ${data.length} bytes`);
    const v = new DataView(data.buffer, data.byteOffset, 8);
    return { __eventTime: true, sec: v.getUint32(0), nsec: v.getUint32(4) };
  },
});

export async function startForwardReceiver(opts: ForwardReceiverOptions = {}): Promise<ForwardReceiver> {
  const random = prng(opts.seed ?? 1);
  const bufferMaxSize = opts.bufferMaxSize ?? 6_144_000;
  const selfHostname = opts.selfHostname ?? 'forward-receiver';
  const decoder = new Decoder({ extensionCodec: timeCodec });
  const rawDecoder = new Decoder({ rawStrings: true, extensionCodec: timeCodec });
  let faults: ReceiverFaults = { ...opts.faults };
  let dropCount = 0;
  let withholdCount = 0;
  let loseAckCount = 0;
  let paused = false;
  let pendingAcks = 0;
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const records: ReceivedRecord[] = [];
  const ackLog: Array<{ at: number; entries: number; tag: string }> = [];
  const uptimeNow = (): number => opts.uptimeClock?.now() ?? Date.now();
  let startedAt = uptimeNow();
  /** records.length at the last (re)start: the metrics count from there; the bytes of those stored since. */
  let storedBeforeStart = 0;
  let storedBytes = 0;
  const authFailures: string[] = [];
  const protocolErrors: string[] = [];
  const stats: ReceiverStats = {
    connections: 0,
    refused: 0,
    frames: 0,
    acks: 0,
    modes: { message: 0, forward: 0, packed: 0, compressed: 0 },
    drops: 0,
    withheld: 0,
    lostAckChunks: 0,
    lostAckEntries: 0,
    maxPendingAcks: 0,
    maxFrameBytes: 0,
    pingSplit: 0,
    handshakes: 0,
  };

  const decide = (next: number, probability: number | undefined): [boolean, number] => {
    if (next > 0) return [true, next - 1];
    return [probability !== undefined && probability > 0 && random() < probability, 0];
  };

  function sendHelo(c: Conn): void {
    c.socket.write(
      Buffer.concat([
        Buffer.from([0x92, 0xa4]),
        Buffer.from('HELO'),
        Buffer.from([0x82, 0xa5]),
        Buffer.from('nonce'),
        rawStr(c.nonce),
        Buffer.from([0xa4]),
        Buffer.from('auth'),
        rawStr(c.auth),
      ]),
    );
  }

  function handlePing(c: Conn, msg: Buffer): void {
    if (msg.length >= 1023) throw new ProtocolError('PING of 1023 bytes or more');
    if (c.readsSinceHelo > 1) stats.pingSplit++;
    // Every element must be a msgpack str, as in_forward checks.
    if (msg[0] !== 0x96) throw new ProtocolError('PING is not an array of 6');
    let at = 1;
    for (let i = 0; i < 6; i++) {
      if (!isMsgpackStr(msg, at)) throw new ProtocolError(`PING element ${i} is not a str`);
      at += msgpackLength(msg, at);
    }
    const ping = rawDecoder.decode(msg) as Uint8Array[];
    const [kind, hostname, salt, digest, username, passwordDigest] = ping.map((b) => Buffer.from(b));
    if (kind!.toString() !== 'PING') throw new ProtocolError('expected PING');
    const expected = sha512Hex(salt!, hostname!, c.nonce, opts.sharedKey!);
    if (digest!.toString('latin1') !== expected) {
      authFailures.push('shared_key mismatch');
      c.socket.destroy(); // Fluent Bit closes without PONG
      return;
    }
    if (opts.users && opts.users.length > 0) {
      const ok = opts.users.some(
        (u) =>
          Buffer.from(u.username).equals(username!) &&
          passwordDigest!.length === 128 &&
          sha512Hex(c.auth, u.username, u.password) === passwordDigest!.toString('latin1'),
      );
      if (!ok) {
        authFailures.push('username/password mismatch');
        c.socket.end(Buffer.from(encode(['PONG', false, 'username/password mismatch', '', ''])));
        return;
      }
    }
    const pongDigest = sha512Hex(salt!, selfHostname, c.nonce, opts.sharedKey!);
    c.socket.write(Buffer.from(encode(['PONG', true, '', selfHostname, pongDigest])));
    stats.handshakes++;
    c.state = 'ready';
  }

  function toTime(t: unknown, messageMode: boolean): { sec: number; nsec: number } {
    if (t !== null && typeof t === 'object' && (t as { __eventTime?: boolean }).__eventTime) {
      const et = t as { sec: number; nsec: number };
      return { sec: et.sec, nsec: et.nsec };
    }
    if (typeof t === 'number' && Number.isInteger(t) && t >= 0) return { sec: t, nsec: 0 };
    if (typeof t === 'number' && !messageMode && t >= 0) {
      const sec = Math.floor(t);
      return { sec, nsec: Math.round((t - sec) * 1e9) };
    }
    throw new ProtocolError(`invalid time ${String(t)}`);
  }

  function entryToRecord(tag: string, entry: unknown, mode: FrameMode): ReceivedRecord {
    if (!Array.isArray(entry) || entry.length < 2) throw new ProtocolError('entry is not [time, record]');
    // Fluent Bit 2+ also accepts [[time, metadata], record].
    const t = Array.isArray(entry[0]) ? entry[0][0] : entry[0];
    const record = entry[1];
    if (record === null || typeof record !== 'object' || Array.isArray(record))
      throw new ProtocolError('record is not a map');
    return { tag, time: toTime(t, false), record: record as Record<string, unknown>, mode };
  }

  function processFrame(c: Conn, msg: Buffer): void {
    stats.frames++;
    stats.maxFrameBytes = Math.max(stats.maxFrameBytes, msg.length);
    const root = decoder.decode(msg);
    if (!Array.isArray(root) || root.length < 2) throw new ProtocolError('frame is not an array of 2+ elements');
    const tag = root[0];
    if (typeof tag !== 'string') throw new ProtocolError('tag is not a str');
    const second = root[1];
    let mode: FrameMode;
    let optionsAt: number;
    let entries: ReceivedRecord[];
    /** The entries' msgpack bytes as Fluent Bit counts them (packed modes; the others count 0 here). */
    let frameBytes = 0;
    if (Array.isArray(second)) {
      mode = 'forward';
      optionsAt = 2;
      entries = second.map((e) => entryToRecord(tag, e, mode));
    } else if (
      typeof second === 'number' ||
      (second !== null && typeof second === 'object' && (second as { __eventTime?: boolean }).__eventTime)
    ) {
      mode = 'message';
      optionsAt = 3;
      if (root.length < 3) throw new ProtocolError('message mode requires 3 elements');
      const rec = root[2];
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec))
        throw new ProtocolError('message mode record is not a map');
      entries = [{ tag, time: toTime(second, true), record: rec as Record<string, unknown>, mode }];
    } else if (second instanceof Uint8Array || typeof second === 'string') {
      optionsAt = 2;
      const options = root[2] as Record<string, unknown> | undefined;
      let bytes = second instanceof Uint8Array ? second : ((rawDecoder.decode(msg) as unknown[])[1] as Uint8Array);
      mode = options && typeof options === 'object' && options['compressed'] === 'gzip' ? 'compressed' : 'packed';
      if (mode === 'compressed') bytes = gunzipSync(bytes);
      entries = [];
      for (const e of decoder.decodeMulti(bytes)) entries.push(entryToRecord(tag, e, mode));
      frameBytes = bytes.length;
    } else {
      throw new ProtocolError('second element is neither entries, time nor packed entries');
    }
    const options = root[optionsAt];
    let chunk: string | undefined;
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object' || Array.isArray(options)) throw new ProtocolError('options is not a map');
      const ch = (options as Record<string, unknown>)['chunk'];
      if (ch !== undefined && typeof ch !== 'string') throw new ProtocolError('chunk option is not a str');
      chunk = ch as string | undefined;
    }
    stats.modes[mode]++;

    let hit: boolean;
    [hit, dropCount] = decide(dropCount, faults.dropProbability);
    if (hit) {
      stats.drops++;
      c.socket.destroy();
      return;
    }
    if (chunk !== undefined) {
      [hit, withholdCount] = decide(withholdCount, faults.withholdProbability);
      if (hit) {
        stats.withheld++;
        return;
      }
    }
    if (ring) {
      ringAt.push(...entries.map(() => Date.now()));
      // A frame's bytes ride on its first entry: a flush never splits a frame (its entries arrived at once).
      ringBytes.push(...entries.map((_, i) => (i === 0 ? frameBytes : 0)));
      ring.push(...entries);
    } else {
      for (const r of entries) records.push(r);
      storedBytes += frameBytes;
    }
    if (chunk === undefined) return;
    [hit, loseAckCount] = decide(loseAckCount, faults.loseAckProbability);
    if (hit) {
      stats.lostAckChunks++;
      stats.lostAckEntries += entries.length;
      c.socket.destroy();
      return;
    }
    const ack = Buffer.from(encode({ ack: chunk }));
    const delay = faults.ackDelayMs ?? 0;
    if (delay <= 0) {
      c.socket.write(ack);
      stats.acks++;
      ackLog.push({ at: Date.now(), entries: entries.length, tag });
      return;
    }
    pendingAcks++;
    stats.maxPendingAcks = Math.max(stats.maxPendingAcks, pendingAcks);
    const timer = setTimeout(() => {
      timers.delete(timer);
      pendingAcks--;
      if (!c.socket.destroyed) {
        c.socket.write(ack);
        stats.acks++;
        ackLog.push({ at: Date.now(), entries: entries.length, tag });
      } else {
        // Stored, but the connection died before the ack could go out: the client will resend.
        stats.lostAckChunks++;
        stats.lostAckEntries += entries.length;
      }
    }, delay);
    timers.add(timer);
  }

  function onData(c: Conn, data: Buffer): void {
    if (c.state === 'ping') c.readsSinceHelo++;
    c.reader.push(data);
    try {
      for (;;) {
        if (c.socket.destroyed) return;
        const msg = c.reader.next();
        if (!msg) {
          if (c.reader.buffered > bufferMaxSize)
            throw new ProtocolError(`frame above buffer_max_size ${bufferMaxSize}`);
          return;
        }
        if (msg.length > bufferMaxSize)
          throw new ProtocolError(`frame of ${msg.length} bytes above buffer_max_size ${bufferMaxSize}`);
        if (c.state === 'ping') handlePing(c, msg);
        else processFrame(c, msg);
      }
    } catch (err) {
      protocolErrors.push((err as Error).message);
      c.socket.destroy();
    }
  }

  function onConnection(socket: net.Socket): void {
    socket.on('error', () => {});
    if (paused) {
      stats.refused++;
      socket.destroy();
      return;
    }
    stats.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const c: Conn = {
      socket,
      reader: new MsgpackStreamReader(),
      state: opts.sharedKey ? 'ping' : 'ready',
      nonce: randomBytes(16),
      auth: randomBytes(16),
      readsSinceHelo: 0,
    };
    socket.on('data', (d: Buffer) => onData(c, d));
    if (opts.sharedKey) sendHelo(c);
  }

  const server = opts.tls
    ? tls.createServer({ cert: opts.tls.cert, key: opts.tls.key }, onConnection)
    : net.createServer(onConnection);
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (opts.path) server.listen(opts.path, resolve);
    else server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : undefined;

  const closeAll = (): void => {
    for (const s of sockets) s.destroy();
  };
  let httpServer: http.Server | undefined;
  let httpPort: number | undefined;
  if (opts.httpUptime) {
    // Fluent Bit's api/v1/uptime: time(NULL) − the start's time(NULL), in whole seconds.
    httpServer = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/api/v1/metrics') {
        const input = {
          [opts.inputName ?? 'jumpcloud_forward']: { records: records.length - storedBeforeStart, bytes: storedBytes },
          'storage_backlog.1': { records: 0, bytes: 0 },
        };
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ input, filter: {}, output: {} }));
        return;
      }
      if (req.method !== 'GET' || req.url !== '/api/v1/uptime') {
        res.writeHead(404).end();
        return;
      }
      const sec = Math.floor(uptimeNow() / 1000) - Math.floor(startedAt / 1000);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ uptime_sec: sec, uptime_hr: `Fluent Bit has been running: ${sec} seconds` }));
    });
    await new Promise<void>((resolve) => httpServer!.listen(0, '127.0.0.1', resolve));
    httpPort = (httpServer.address() as net.AddressInfo).port;
  }
  let ring: ReceivedRecord[] | undefined;
  /**
   * Date.now() each ring entry arrived: Fluent Bit's engine flushes within commitEveryMs, whatever this process is busy
   * with.
   */
  const ringAt: number[] = [];
  const ringBytes: number[] = [];
  /** Moves the first `n` ring entries into storage. */
  const flushRing = (n: number): void => {
    for (const r of ring!.splice(0, n)) records.push(r);
    ringAt.splice(0, n);
    for (const b of ringBytes.splice(0, n)) storedBytes += b;
  };
  let ringTimer: NodeJS.Timeout | undefined;
  if (opts.commitEveryMs !== undefined) {
    ring = [];
    ringTimer = setInterval(() => flushRing(ring!.length), opts.commitEveryMs);
  }

  return {
    port,
    httpPort,
    ackLog,
    path: opts.path,
    records,
    stats,
    authFailures,
    protocolErrors,
    ids: () => records.map((r) => (JSON.parse(String(r.record['message'])) as { id: string }).id),
    setFaults: (f) => {
      faults = { ...f };
    },
    dropNext: (n) => {
      dropCount += n;
    },
    withholdNext: (n) => {
      withholdCount += n;
    },
    loseAckNext: (n) => {
      loseAckCount += n;
    },
    pause: () => {
      paused = true;
      closeAll();
    },
    commit: () => {
      if (ring) flushRing(ring.length);
    },
    crash: () => {
      // Only what arrived within commitEveryMs is lost: older entries would have been flushed by Fluent Bit's
      // engine thread by now (this process's timer may be late when it is busy serving pages).
      let flushed = 0;
      const cutoff = Date.now() - (opts.commitEveryMs ?? 0);
      while (flushed < ringAt.length && ringAt[flushed]! < cutoff) flushed++;
      if (ring) flushRing(flushed);
      const lost = ring ? ring.splice(0).length : 0;
      ringAt.length = 0;
      ringBytes.length = 0;
      closeAll();
      startedAt = uptimeNow(); // restarted
      storedBeforeStart = records.length;
      storedBytes = 0;
      return lost;
    },
    resume: () => {
      paused = false;
    },
    closeAll,
    async waitForRecords(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (records.length < n) {
        if (Date.now() > deadline)
          throw new Error(`receiver got ${records.length} of ${n} records within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      if (ringTimer) clearInterval(ringTimer);
      if (ring) flushRing(ring.length);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      closeAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (httpServer) await new Promise<void>((resolve) => httpServer!.close(() => resolve()));
    },
  };
}
