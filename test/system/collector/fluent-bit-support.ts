// Helpers of the exactly-once test against a real Fluent Bit: a Fluent Bit process that can be killed with
// SIGKILL and restarted on the same port and storage, a reader of the file output that copes with a line torn
// by a kill, and a reader of the filesystem storage's chunk files (to know which records a killed Fluent Bit
// still held, i.e. which ones it may flush a second time after its restart).
import { decodeMulti } from '@msgpack/msgpack';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { Simulator } from '../../../input/simulator/server.js';

export interface FluentBitFiles {
  readonly dir: string;
  readonly configPath: string;
  readonly storagePath: string;
  readonly outFile: string;
  readonly logFile: string;
}

/** A classic config: forward input (threaded, filesystem storage) → file output, one JSON line per record. */
/**
 * `httpPort`: also Fluent Bit's HTTP server on 127.0.0.1 (its /api/v1/uptime and /api/v1/metrics serve
 * --fluent-bit-http; the input's alias is the shipped one).
 */
export function writeFluentBitConfig(dir: string, port: number, httpPort?: number): FluentBitFiles {
  const storagePath = path.join(dir, 'storage');
  const outDir = path.join(dir, 'out');
  const files: FluentBitFiles = {
    dir,
    configPath: path.join(dir, 'fluent-bit.conf'),
    storagePath,
    outFile: path.join(outDir, 'records.log'),
    logFile: path.join(dir, 'fluent-bit.log'),
  };
  // The file output's default format writes `<tag>: [<sec>.<nsec>, <record JSON>]` per record: tag, EventTime
  // and record can all be checked. retry_limit no_limits: a failed flush is never dropped.
  writeFileSync(
    files.configPath,
    `[SERVICE]
    flush                     1
    grace                     5
    log_level                 info
    storage.path              ${storagePath}
    storage.sync              normal
    storage.backlog.mem_limit 16M
${
  httpPort === undefined
    ? ''
    : `    http_server               on\n    http_listen               127.0.0.1\n    ` +
      `http_port                 ${httpPort}\n`
}
[INPUT]
    name                      forward
    alias                     jumpcloud_forward
    listen                    127.0.0.1
    port                      ${port}
    threaded                  on
    storage.type              filesystem

[OUTPUT]
    name                      file
    match                     jumpcloud.*
    path                      ${outDir}
    file                      records.log
    mkdir                     true
    retry_limit               no_limits
`,
  );
  return files;
}

/** One Fluent Bit that can be (re)started, killed with SIGKILL and stopped; its stderr goes to files.logFile. */
export class FluentBitProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private err = '';
  starts = 0;

  constructor(
    private readonly bin: string,
    private readonly files: FluentBitFiles,
    readonly port: number,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts and resolves once the forward input listens (rejects with the log tail otherwise). */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.running) throw new Error('Fluent Bit is already running');
    this.starts++;
    this.err = '';
    appendFileSync(this.files.logFile, `\n===== start ${this.starts} at ${new Date().toISOString()} =====\n`);
    const child = spawn(this.bin, ['-c', this.files.configPath], {
      cwd: this.files.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.err += s;
      appendFileSync(this.files.logFile, s);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const listening = new RegExp(`listening on 127\\.0\\.0\\.1:${this.port}\\b`);
    const deadline = Date.now() + timeoutMs;
    while (!listening.test(this.err)) {
      if (!this.running)
        throw new Error(`Fluent Bit exited while starting; log ${this.files.logFile}:\n${this.err.slice(-3000)}`);
      if (Date.now() > deadline)
        throw new Error(
          `Fluent Bit did not listen on ${this.port} within ${timeoutMs} ms; log ` +
            `${this.files.logFile}:\n${this.err.slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async kill9(): Promise<void> {
    if (!this.running) throw new Error('Fluent Bit is not running');
    this.child!.kill('SIGKILL');
    await this.exited;
    appendFileSync(this.files.logFile, `\n===== SIGKILL at ${new Date().toISOString()} =====\n`);
  }

  /** SIGTERM (Fluent Bit flushes within its grace period), SIGKILL after timeoutMs. */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    const code = await this.exited!;
    clearTimeout(timer);
    return code;
  }

  /** For afterAll: never leave Fluent Bit behind. */
  forceKill(): void {
    if (this.running) this.child!.kill('SIGKILL');
  }

  log(): string {
    return readFileSync(this.files.logFile, 'utf8');
  }
}

export interface OutputRecord {
  readonly tag: string;
  readonly sec: number;
  readonly nsec: number;
  /** The record's `message`: the raw event JSON. */
  readonly message: string;
  readonly id: string;
  /** Date.now() when the reader first saw the line (its write time, within one poll). */
  readonly seenAt: number;
}

const LINE = /^(\S+): \[(\d+)\.(\d{9}), (\{.*\})\]$/;

/**
 * Reads the file output as it grows. A kill -9 in the middle of a flush can leave a line without its end;
 * the next Fluent Bit appends after it. markKill(), called after the kill and before the restart, drops such
 * a fragment (counted in `torn`): its records are in a chunk not marked done, so they are flushed again.
 */
export class OutputReader {
  readonly records: OutputRecord[] = [];
  /** Lines that are not `<tag>: [time, record]` with a JSON message holding an id: there must be none. */
  readonly junk: string[] = [];
  torn = 0;
  private offset = 0;
  private pending = '';

  constructor(private readonly file: string) {}

  poll(): void {
    if (!existsSync(this.file)) return;
    const fd = openSync(this.file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
      this.offset += got;
      this.pending += buf.subarray(0, got).toString('utf8');
    } finally {
      closeSync(fd);
    }
    const now = Date.now();
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      this.parse(this.pending.slice(0, nl), now);
      this.pending = this.pending.slice(nl + 1);
    }
  }

  /** After a kill -9 of Fluent Bit: everything it wrote is read; an unfinished last line is a torn fragment. */
  markKill(): void {
    this.poll();
    if (this.pending !== '') {
      this.torn++;
      this.pending = '';
    }
  }

  /** Bytes read so far (the file's size at the last poll). */
  get bytes(): number {
    return this.offset;
  }

  private parse(line: string, now: number): void {
    const m = LINE.exec(line);
    try {
      if (!m) throw new Error('not a record line');
      const record = JSON.parse(m[4]!) as { message?: unknown };
      if (typeof record.message !== 'string') throw new Error('no message');
      const ev = JSON.parse(record.message) as { id?: unknown };
      if (typeof ev.id !== 'string') throw new Error('no id');
      this.records.push({
        tag: m[1]!,
        sec: Number(m[2]),
        nsec: Number(m[3]),
        message: record.message,
        id: ev.id,
        seenAt: now,
      });
    } catch {
      this.junk.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
    }
  }
}

/**
 * Ids of the records in Fluent Bit's filesystem storage (chunkio files: 24-byte header with the content length
 * at offset 10, metadata, then the msgpack events). Read after a kill -9, these are the records the restarted
 * Fluent Bit will flush (again, if it had written them already). A chunk cut by the kill yields what parses.
 */
export function storedIds(storagePath: string): string[] {
  const ids: string[] = [];
  if (!existsSync(storagePath)) return ids;
  for (const sub of readdirSync(storagePath)) {
    const dir = path.join(storagePath, sub);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.flb')) continue;
      let map: Buffer;
      try {
        map = readFileSync(path.join(dir, f));
      } catch {
        continue; // removed between readdir and read: flushed and done
      }
      if (map.length < 24 || map[0] !== 0xc1 || map[1] !== 0x00) continue;
      const metaLen = map.readUInt16BE(22);
      const declared = map.readUInt32BE(10);
      const start = 24 + metaLen;
      const end = declared > 0 ? Math.min(map.length, start + declared) : map.length;
      try {
        for (const ev of decodeMulti(map.subarray(start, end))) {
          // Fluent Bit 2.1+: [[time, metadata], body]; older: [time, body].
          const body = Array.isArray(ev) ? (ev[1] as { message?: unknown } | undefined) : undefined;
          if (body && typeof body.message === 'string') {
            const id = (JSON.parse(body.message) as { id?: unknown }).id;
            if (typeof id === 'string') ids.push(id);
          }
        }
      } catch {
        // the tail of a chunk being written at the kill: the records before it were taken
      }
    }
  }
  return ids;
}

/**
 * Ids in the collector's id journals (`<state>/<org>/<service>.ids`, lines `id<TAB>ms`): the ids Fluent Bit
 * acked (the collector journals a batch right after its ack). Read after a kill of Fluent Bit, they tell a
 * record lost after its ack from one that was never acked.
 */
export function journaledIds(stateDir: string): Set<string> {
  const ids = new Set<string>();
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) {
      const p = path.join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.ids')) {
        for (const line of readFileSync(p, 'utf8').split('\n')) {
          // `id<TAB>ms`, or `id<TAB>ms<TAB>acked@ms` (acked, not settled yet: --fluent-bit-http); not
          // `id<TAB>ms<TAB>sent@seq` (written, not acked: the forward ledger decides it at the restart).
          const tab = line.indexOf('\t');
          if (tab <= 0 || line.includes('\tsent@')) continue;
          const id = line.slice(0, tab);
          ids.add(id.startsWith('"') ? (JSON.parse(id) as string) : id);
        }
      }
    }
  };
  walk(stateDir);
  return ids;
}

/** What one real-Fluent-Bit test case runs; afterEach stops it, and removes `work` only when the case `passed`. */
export interface FluentBitCase {
  fb?: FluentBitProcess;
  sim?: Simulator;
  readonly children: ChildProcess[];
  work?: string;
  passed: boolean;
}

/**
 * A FluentBitCase whose processes an afterEach kills, then empties it for the next case (a failure keeps its work
 * directory for the diagnosis).
 */
export function fluentBitCase(): FluentBitCase {
  const c: FluentBitCase = { children: [], passed: false };
  afterEach(async () => {
    for (const p of c.children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    c.fb?.forceKill();
    await c.sim?.close().catch(() => undefined);
    if (c.passed && c.work) rmSync(c.work, { recursive: true, force: true });
    c.children.length = 0;
    c.fb = c.sim = c.work = undefined;
    c.passed = false;
  });
  return c;
}
