// The Kubernetes deployments as the tools render them: `helm template` of the Fluent Bit chart (fixture:
// fluent/helm-charts fluent-bit 0.58.1) with deploy/helm/values-jumpcloud.yaml, `kubectl kustomize` of
// deploy/kubernetes and deploy/fluent-operator, and every built-in object among them decoded strictly into
// Kubernetes' own API types (test/tools/k8s-validate: k8s.io/api v0.37.2, unknown or duplicate fields and wrong
// types refused, as `kubectl apply --validate=strict` does). The Fluent Operator's custom resources are validated
// against their CRDs in test/unit/deploy/fluent-operator.test.ts. With FLUENT_BIT_BIN, the pipeline that helm
// rendered runs on a real Fluent Bit, fed by the collector with the rendered sidecar's environment.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startSimulator } from '../../../input/simulator/server.js';
import { ROOT } from '../../support/run-cli.js';
import { WASM, freePort, runCollector, startFluentBit } from '../e2e/pipeline-harness.js';

type Obj = Record<string, any>;
const run = promisify(execFile);
const work = mkdtempSync(path.join(tmpdir(), 'fbjc-k8s-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const CHART = path.join(ROOT, 'test/unit/deploy/fixtures/fluent-bit-chart-0.58.1');
const OVERLAY = path.join(ROOT, 'deploy/helm/values-jumpcloud.yaml');
const CI = process.env.CI === 'true';

/** A tool: its path, or why it is missing (a test then skips; in CI, where .ci/run installs it, it fails). */
function tool(name: string, candidates: string[], hint: string): string | undefined {
  for (const c of candidates) if (c && spawnSync(c, ['version'], { encoding: 'utf8' }).status === 0) return c;
  const why = `test/system/package/deploy-kubernetes.test.ts: no ${name} (${hint}): its checks are skipped`;
  if (CI) throw new Error(`${why}; CI must have it (.ci/run installs it)`);
  console.warn(why);
  return undefined;
}

const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).stdout?.trim() ?? '';
const HELM = tool(
  'helm',
  [process.env.HELM_BIN ?? '', 'helm', gopath && path.join(gopath, 'bin/helm')],
  'HELM_BIN, PATH or $(go env GOPATH)/bin; go install helm.sh/helm/v4/cmd/helm@v4.3.2',
);
const GO = tool('go', ['go'], 'the Go toolchain builds test/tools/k8s-validate');
const KUBECTL =
  spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0 ? 'kubectl' : undefined;
if (!KUBECTL)
  console.warn('deploy-kubernetes.test.ts: no kubectl on PATH: `kubectl create configmap` and kustomize skipped');
const FLUENT_BIT_BIN = process.env.FLUENT_BIT_BIN || undefined;

let validator = '';
beforeAll(async () => {
  if (!GO) return;
  validator = path.join(work, 'k8s-validate');
  // The first build downloads k8s.io/api and k8s.io/apimachinery through the Go module proxy (about 30 s).
  await run(GO, ['build', '-o', validator, '.'], { cwd: path.join(ROOT, 'test/tools/k8s-validate') });
}, 600_000);

interface Verdict {
  readonly file: string;
  readonly kind: string;
  readonly name: string;
  readonly status: 'valid' | 'invalid' | 'skipped';
  readonly error?: string;
}

async function validate(files: string[]): Promise<Verdict[]> {
  const r = await run(validator, files).catch((e: { stdout: string; code: number }) => {
    if (e.code !== 1) throw e;
    return e;
  });
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Verdict);
}

async function helmTemplate(): Promise<{ file: string; docs: Obj[] }> {
  const { stdout } = await run(HELM!, ['template', 'jumpcloud', CHART, '-n', 'jumpcloud', '-f', OVERLAY]);
  const file = path.join(work, 'helm-rendered.yaml');
  writeFileSync(file, stdout);
  return { file, docs: parseAllDocuments(stdout).map((d) => d.toJS() as Obj) };
}

describe.skipIf(!GO)('Kubernetes objects decoded strictly into the API types (k8s.io/api v0.37.2)', () => {
  it('the check can fail: a misspelt field and a wrong type are refused', async () => {
    const bad = path.join(work, 'bad.yaml');
    writeFileSync(
      bad,
      readFileSync(path.join(ROOT, 'deploy/kubernetes/statefulset.yaml'), 'utf8')
        .replace('readinessProbe:', 'readinesProbe:')
        .replace('terminationGracePeriodSeconds: 60', 'terminationGracePeriodSeconds: "60"'),
    );
    const [v] = await validate([bad]);
    expect(v!.status).toBe('invalid');
    expect(v!.error).toMatch(/terminationGracePeriodSeconds|readinesProbe/);
  });

  it('deploy/kubernetes, deploy/helm/state-pvc.yaml and deploy/fluent-operator: built-in kinds valid', async () => {
    const files = [
      ...['collector-configmap', 'fluent-bit-configmap', 'namespace', 'secret.example', 'service', 'statefulset'].map(
        (f) => path.join(ROOT, `deploy/kubernetes/${f}.yaml`),
      ),
      path.join(ROOT, 'deploy/helm/state-pvc.yaml'),
      ...['pipeline', 'fluent-bit', 'collector', 'network-policy'].map((f) =>
        path.join(ROOT, `deploy/fluent-operator/${f}.yaml`),
      ),
    ];
    const verdicts = await validate(files);
    expect(verdicts.filter((v) => v.status === 'invalid')).toEqual([]);
    // The custom resources are the operator's (validated against its CRDs by the unit test), nothing else.
    expect([...new Set(verdicts.filter((v) => v.status === 'skipped').map((v) => v.kind))].sort()).toEqual([
      'ClusterFilter',
      'ClusterFluentBitConfig',
      'ClusterInput',
      'ClusterOutput',
      'Collector',
    ]);
    expect(verdicts.filter((v) => v.status === 'valid').length).toBeGreaterThanOrEqual(12);
  });

  it.skipIf(!KUBECTL)('kubectl kustomize renders both kustomizations into valid objects', async () => {
    for (const dir of ['deploy/kubernetes', 'deploy/fluent-operator']) {
      const { stdout } = await run(KUBECTL!, ['kustomize', path.join(ROOT, dir)]);
      const file = path.join(work, `${path.basename(dir)}-kustomized.yaml`);
      writeFileSync(file, stdout);
      const verdicts = await validate([file]);
      expect(
        verdicts.filter((v) => v.status === 'invalid'),
        dir,
      ).toEqual([]);
      expect(
        verdicts.some((v) => v.kind === 'StatefulSet' && v.status === 'valid'),
        dir,
      ).toBe(true);
    }
  });
});

describe.skipIf(!HELM || !GO)(
  'helm template of the Fluent Bit chart 0.58.1 with deploy/helm/values-jumpcloud.yaml',
  () => {
    it('renders a Deployment with Fluent Bit and the collector, and its pipeline ConfigMap; all valid', async () => {
      const { file, docs } = await helmTemplate();
      expect(docs.map((d) => d.kind)).toEqual(['ServiceAccount', 'ConfigMap', 'Service', 'Deployment', 'Pod']);
      const verdicts = await validate([file]);
      expect(verdicts.map((v) => v.status)).toEqual(['valid', 'valid', 'valid', 'valid', 'valid']);
      const pod = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec as Obj;
      expect((pod.containers as Obj[]).map((c) => c.name)).toEqual(['fluent-bit', 'collector']);
      expect((pod.volumes as Obj[]).map((v) => v.name)).toEqual(['config', 'jumpcloud-wasm', 'state', 'credentials']);
      const conf = docs.find((d) => d.kind === 'ConfigMap')!.data['fluent-bit.conf'] as string;
      expect(conf).toMatch(/^\s+Alias\s+jumpcloud_forward$/m);
      expect(conf).toMatch(/^\s+wasm_path\s+\/fluent-bit\/wasm\/jumpcloud\.wasm$/m);
    });

    it.skipIf(!KUBECTL || !existsSync(WASM))(
      "the header's `kubectl create configmap` puts the module in binaryData under the key the mount expects",
      async () => {
        const { stdout } = await run(KUBECTL!, [
          'create',
          'configmap',
          'jumpcloud-wasm',
          `--from-file=jumpcloud.wasm=${WASM}`,
          '--dry-run=client',
          '-o',
          'yaml',
        ]);
        const cm = parseAllDocuments(stdout)[0]!.toJS() as Obj;
        expect(Buffer.from(cm.binaryData['jumpcloud.wasm'] as string, 'base64').equals(readFileSync(WASM))).toBe(true);
      },
    );

    it.skipIf(!FLUENT_BIT_BIN || !existsSync(WASM))(
      "the rendered pipeline runs on a real Fluent Bit, fed by the collector with the rendered sidecar's env",
      async () => {
        const { docs } = await helmTemplate();
        const dir = mkdtempSync(path.join(work, 'run-'));
        const [forward, httpPort] = [await freePort(), await freePort()];
        // The pod's paths and ports, moved to this machine's (each replacement must hit: the rendering changed else).
        const moves: Array<[RegExp, string]> = [
          [/\/var\/lib\/fluent-bit\/jumpcloud/g, path.join(dir, 'storage')],
          [/\/fluent-bit\/wasm\/jumpcloud\.wasm/g, WASM],
          [/\/fluent-bit\/wasm$/gm, path.dirname(WASM)],
          [/(Port\s+)24224$/gm, `$1${forward}`],
          [/(http_port\s+)2020$/gm, `$1${httpPort}`],
          [/(http_listen\s+)0\.0\.0\.0$/gm, '$1127.0.0.1'],
        ];
        let conf = docs.find((d) => d.kind === 'ConfigMap')!.data['fluent-bit.conf'] as string;
        for (const [re, to] of moves) {
          expect(re.test(conf), String(re)).toBe(true);
          conf = conf.replace(re, to);
        }
        const confFile = path.join(dir, 'fluent-bit.conf');
        writeFileSync(confFile, conf);
        const fb = await startFluentBit(confFile, { FORWARD_PORT: String(forward) });
        const to = Date.now() - 5 * 60_000;
        const sim = await startSimulator({
          seed: 5,
          services: ['directory'],
          eventsPerMinute: 20,
          from: to - 30 * 60_000,
          to,
          indexDelay: { lateFraction: 0 },
        });
        try {
          const pod = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec as Obj;
          const sidecar = (pod.containers as Obj[]).find((c) => c.name === 'collector')!;
          const env = Object.fromEntries((sidecar.env as Obj[]).map((e) => [e.name as string, String(e.value)]));
          expect(env).toMatchObject({ FLUENT_BIT_FORWARD: '127.0.0.1:24224', FLUENT_BIT_HTTP: '127.0.0.1:2020' });
          const key = path.join(dir, 'api-key');
          writeFileSync(key, sim.apiKey);
          const { JUMPCLOUD_ORG_IDS: _orgs, ...rest } = env;
          const r = await runCollector(
            ['--once', '--since', new Date(to - 30 * 60_000).toISOString(), '--services', 'directory'],
            {
              ...rest,
              FLUENT_BIT_FORWARD: `127.0.0.1:${forward}`,
              FLUENT_BIT_HTTP: `127.0.0.1:${httpPort}`,
              JUMPCLOUD_API_URL: sim.url,
              JUMPCLOUD_API_KEY_FILE: key,
              JUMPCLOUD_STATE_DIR: path.join(dir, 'state'),
              JUMPCLOUD_METRICS_HOST: '127.0.0.1',
              JUMPCLOUD_METRICS_PORT: '0',
            },
            120_000,
          );
          expect(r.code, r.stderr.slice(-3000)).toBe(0);
          const expected = sim.expectedEvents({ service: 'directory', start: to - 30 * 60_000, end: to }).length;
          await fb.waitFor(
            () => fb.stdoutDocs.length >= expected,
            30_000,
            `every event as an ECS document (${expected}); collector log tail:\n${r.stderr.slice(-2000)}\n`,
          );
          expect(fb.stdoutDocs[0]).toMatchObject({ observer: { vendor: 'Jumpcloud' } });
          expect(new Set(fb.stdoutDocs.map((d) => (d.jumpcloud as { id: string }).id)).size).toBe(expected);
        } finally {
          await sim.close();
          await fb.stop();
        }
      },
      180_000,
    );
  },
);
