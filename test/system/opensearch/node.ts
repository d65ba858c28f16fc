// A real OpenSearch node for the tests. `.ci/run` builds it (test/opensearch/pom.xml: Maven Central only),
// starts one and exports OPENSEARCH_URL; a test that must restart a node starts its own with startNode().
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../e2e/pipeline-harness.js';

export const NODE_JAR = join(REPO, 'test/opensearch/target/opensearch-node.jar');
/**
 * Small on purpose: CI shares 2 cores and 24 GiB with everything else. (Tried: -XX:ActiveProcessorCount=1
 * so other tests keep a core; with one GC thread the 512 MB heap then trips the parent circuit breaker.)
 */
export const NODE_JVM = ['-Xms512m', '-Xmx512m'];

/**
 * The node the tests index into: OPENSEARCH_URL. Unset in CI (CI=true) is a failure, not a skip: CI
 * must prove the documents against a real engine. Locally the tests skip with this reason.
 */
export function opensearchTarget(): { url: string; reason?: undefined } | { url?: undefined; reason: string } {
  const url = process.env.OPENSEARCH_URL;
  if (url) return { url: url.replace(/\/+$/, '') };
  return {
    reason:
      'OPENSEARCH_URL is not set: `bash .ci/run` starts a real node; by hand: mvn -q -f test/opensearch/pom.xml ' +
      'package && ' +
      'java -Xms512m -Xmx512m -jar test/opensearch/target/opensearch-node.jar 9200 /tmp/os-data, then ' +
      'OPENSEARCH_URL=http://127.0.0.1:9200',
  };
}

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export interface Node {
  readonly url: string;
  /** ms from spawn to green. */
  readonly startMs: number;
  readonly pid: number;
  log(): string;
  /** SIGTERM (the node closes its shards cleanly), then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts a node on 127.0.0.1:port with its data in dataDir (kept across stop/start: same node again). */
export async function startNode(port: number, dataDir: string, timeoutMs = 180_000): Promise<Node> {
  if (!existsSync(NODE_JAR)) throw new Error(`${NODE_JAR} is missing: run mvn -q -f test/opensearch/pom.xml package`);
  const t0 = Date.now();
  const child: ChildProcess = spawn('java', [...NODE_JVM, '-jar', NODE_JAR, String(port), dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out = (out + s).slice(-20_000);
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    out = (out + s).slice(-20_000);
  });
  let exited: number | null | undefined;
  const exit = new Promise<void>((r) =>
    child.once('exit', (c) => {
      exited = c;
      r();
    }),
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(t);
    }
    process.removeListener('exit', killOnExit);
  };
  while (!/opensearch-node ready/.test(out)) {
    if (exited !== undefined)
      throw new Error(`the OpenSearch node exited (${exited}) before it was ready:\n${out.slice(-4000)}`);
    if (Date.now() - t0 > timeoutMs) {
      await stop();
      throw new Error(`the OpenSearch node was not ready after ${timeoutMs} ms:\n${out.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url: `http://127.0.0.1:${port}`, startMs: Date.now() - t0, pid: child.pid!, log: () => out, stop };
}
