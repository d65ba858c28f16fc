// deploy/fluent-operator: every Fluent Operator resource validates against its CRD's OpenAPI schema
// (fluent/fluent-operator v3.10.0, test fixture) with unknown fields refused, as `kubectl apply` (strict field
// validation) refuses them; the pipeline they make is the shipped fluent-bit.conf's but for the pod's paths and
// addresses; the collector points at that Fluent Bit's forward input, HTTP server and Alias. The built-in kinds are
// decoded strictly with Kubernetes' own types in test/system/package/deploy-kubernetes.test.ts.
import { Ajv } from 'ajv';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../input/config.js';
import { ROOT, differences, parseClassic, section, shippedPipeline } from './pipeline-compare.js';

type Obj = Record<string, any>;
const DIR = path.join(ROOT, 'deploy/fluent-operator');
const SCHEMAS = path.join(ROOT, 'test/unit/deploy/fixtures/fluent-operator-v3.10.0');

const objects: Array<{ file: string; o: Obj }> = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8'), { version: '1.1' }).map((d) => {
      expect(d.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
      return { file, o: d.toJS() as Obj };
    }),
  );
const find = (kind: string, name?: string): Obj => {
  const hits = objects.filter(({ o }) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (hits.length !== 1) throw new Error(`expected one ${kind} ${name ?? ''} in deploy/fluent-operator`);
  return hits[0]!.o;
};

/**
 * The CRD schema with unknown fields refused: additionalProperties false on every object that lists its properties
 * and does not keep unknown fields (x-kubernetes-preserve-unknown-fields), as the API server's strict field
 * validation does; the x-kubernetes-* keywords are known to the validator as annotations.
 */
function strict(schema: Obj): Obj {
  const walk = (s: unknown): unknown => {
    if (Array.isArray(s)) return s.map(walk);
    if (!s || typeof s !== 'object') return s;
    const o = Object.fromEntries(Object.entries(s as Obj).map(([k, v]) => [k, k === 'enum' ? v : walk(v)]));
    if (o.properties && o.additionalProperties === undefined && !o['x-kubernetes-preserve-unknown-fields'])
      o.additionalProperties = false;
    return o;
  };
  return walk(schema) as Obj;
}

// Kubernetes' integer and string formats (int32, int64, …) are known and not checked beyond the type.
const ajv = new Ajv({
  allErrors: true,
  strict: false,
  formats: { int32: true, int64: true, 'date-time': true, byte: true, 'int-or-string': true },
});
const validators = new Map(
  readdirSync(SCHEMAS)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const crd = JSON.parse(readFileSync(path.join(SCHEMAS, f), 'utf8')) as Obj;
      return [crd.kind as string, { crd, validate: ajv.compile(strict(crd.openAPIV3Schema as Obj)) }];
    }),
);

function errorsOf(o: Obj): string[] {
  const v = validators.get(o.kind as string);
  if (!v) return [`no schema for ${o.kind}`];
  const errors: string[] = [];
  if (o.apiVersion !== `${v.crd.group}/${v.crd.version}`) errors.push(`apiVersion ${o.apiVersion}`);
  if (!v.validate(o))
    errors.push(...v.validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
  return errors;
}

const operatorObjects = objects.filter(({ o }) => String(o.apiVersion).startsWith('fluentbit.fluent.io/'));

describe("deploy/fluent-operator against the operator's CRDs (v3.10.0)", () => {
  it('every operator resource validates against its CRD schema, unknown fields refused', () => {
    expect(operatorObjects.map(({ o }) => o.kind).sort()).toEqual([
      'ClusterFilter',
      'ClusterFluentBitConfig',
      'ClusterInput',
      'ClusterOutput',
      'Collector',
    ]);
    for (const { file, o } of operatorObjects) expect(errorsOf(o), `${file}: ${o.kind}`).toEqual([]);
  });

  it('kubectl apply -k applies every file; cluster-scoped kinds carry no namespace, the others jumpcloud', () => {
    const k = find('Kustomization');
    expect([...k.resources].sort()).toEqual(
      readdirSync(DIR)
        .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && !f.includes('.example.'))
        .sort(),
    );
    expect(k.namespace).toBeUndefined();
    for (const { file, o } of objects.filter(({ o }) => o.kind !== 'Kustomization')) {
      const scope = validators.get(o.kind as string)?.crd.scope ?? 'Namespaced';
      expect(o.metadata.namespace, `${file}: ${o.kind}`).toBe(scope === 'Cluster' ? undefined : 'jumpcloud');
    }
  });

  it('the check can fail: a misspelt field, a wrong type, a value off its pattern are refused', () => {
    const filter = structuredClone(find('ClusterFilter'));
    filter.spec.filters[0].wasm.wasmPaht = filter.spec.filters[0].wasm.wasmPath;
    expect(errorsOf(filter).join('\n')).toMatch(/must NOT have additional properties.*wasmPaht/);
    const filter2 = structuredClone(find('ClusterFilter'));
    filter2.spec.filters[0].wasm.wasmHeapSize = '8 kilobytes';
    expect(errorsOf(filter2).join('\n')).toMatch(/wasmHeapSize must match pattern/);
    const config = structuredClone(find('ClusterFluentBitConfig'));
    config.spec.service.httpPort = '2020';
    expect(errorsOf(config).join('\n')).toMatch(/httpPort must be integer/);
  });

  it('the Collector runs the ClusterFluentBitConfig, which selects exactly these inputs, filters and outputs', () => {
    const config = find('ClusterFluentBitConfig');
    expect(find('Collector').spec.fluentBitConfigName).toBe(config.metadata.name);
    for (const [selector, kind] of [
      ['inputSelector', 'ClusterInput'],
      ['filterSelector', 'ClusterFilter'],
      ['outputSelector', 'ClusterOutput'],
    ] as const) {
      const labels = config.spec[selector].matchLabels as Record<string, string>;
      // A label of this pipeline's own: another Fluent Bit's Cluster* resources are never selected.
      expect(Object.keys(labels)).toEqual(['jumpcloud.fluent-bit/pipeline']);
      for (const { o } of objects.filter(({ o }) => o.kind === kind)) expect(o.metadata.labels).toMatchObject(labels);
    }
  });

  it('makes the shipped pipeline: service, forward input, wasm filter, stdout output', () => {
    const collector = find('Collector');
    const wasmMount = (collector.spec.volumesMounts as Obj[]).find((m) => m.name === 'jumpcloud-wasm')!;
    const shipped = shippedPipeline({
      JUMPCLOUD_STORAGE_PATH: collector.spec.bufferPath as string,
      JUMPCLOUD_WASM_PATH: `${wasmMount.mountPath}/jumpcloud.wasm`,
      JUMPCLOUD_WASM_DIR: wasmMount.mountPath as string,
    });
    const service = find('ClusterFluentBitConfig').spec.service as Obj;
    const s = section(shipped, 'SERVICE');
    expect(service).toMatchObject({
      flushSeconds: Number(s.get('flush')),
      logLevel: s.get('log_level'),
      httpServer: s.get('http_server') === 'on',
      httpPort: Number(s.get('http_port')),
      // The collector is another pod: the HTTP server listens on the pod network (network-policy.yaml).
      httpListen: '0.0.0.0',
      storage: { path: s.get('storage.path'), sync: s.get('storage.sync'), checksum: s.get('storage.checksum') },
    });
    // The operator's ClusterInput renders `Alias` and the custom plugin's lines into one [INPUT].
    const input = find('ClusterInput');
    const forward = section(
      parseClassic(`[INPUT]\nAlias ${input.spec.alias}\n${input.spec.customPlugin.config}`),
      'INPUT',
      'forward',
    );
    expect(differences(forward, section(shipped, 'INPUT', 'forward'), { listen: '0.0.0.0', tls: undefined })).toEqual(
      [],
    );
    const wasm = find('ClusterFilter').spec.filters[0].wasm as Obj;
    const filter = new Map([
      ['name', 'wasm'],
      ['match', find('ClusterFilter').spec.match as string],
      ['wasm_path', wasm.wasmPath],
      ['function_name', wasm.functionName],
      ['event_format', wasm.eventFormat],
      ['accessible_paths', (wasm.accessiblePaths as string[]).join(',')],
      ['wasm_heap_size', wasm.wasmHeapSize],
      ['wasm_stack_size', wasm.wasmStackSize],
    ]);
    expect(differences(filter, section(shipped, 'FILTER', 'wasm'))).toEqual([]);
    const volume = (collector.spec.volumes as Obj[]).find((v) => v.name === wasmMount.name)!;
    expect(volume.configMap.name).toBe('jumpcloud-wasm');
    expect(readFileSync(path.join(DIR, 'kustomization.yaml'), 'utf8')).toContain(
      `kubectl -n jumpcloud create configmap ${volume.configMap.name} --from-file=jumpcloud.wasm=build/jumpcloud.wasm`,
    );
    const stdout = find('ClusterOutput').spec as Obj;
    expect(stdout).toMatchObject({ match: 'jumpcloud.*', stdout: { format: 'json_lines', jsonDateKey: 'false' } });
  });

  it("points the collector at the Collector's Service: forward port, HTTP server, Alias; its config loads", () => {
    const fb = find('Collector');
    const cm = find('ConfigMap', 'jumpcloud-collector').data as Record<string, string>;
    const port = (fb.spec.ports as Obj[]).find((p) => p.name === 'forward')!.containerPort as number;
    expect(cm.FLUENT_BIT_FORWARD).toBe(`${fb.metadata.name}:${port}`);
    expect(cm.FLUENT_BIT_HTTP).toBe(`${fb.metadata.name}:${find('ClusterFluentBitConfig').spec.service.httpPort}`);
    expect(cm.FLUENT_BIT_INPUT).toBe(find('ClusterInput').spec.alias);
    const sts = find('StatefulSet', 'jumpcloud-collector');
    const container = sts.spec.template.spec.containers[0] as Obj;
    const env: Record<string, string> = { ...cm };
    for (const e of container.env as Obj[]) env[e.name] = String(e.value);
    env.JUMPCLOUD_API_KEY_FILE = path.join(ROOT, 'package.json');
    env.JUMPCLOUD_STATE_DIR = path.join(ROOT, 'no-such-state-dir');
    const r = loadConfig({ argv: [], env, now: Date.now() });
    if (r.kind !== 'run') throw new Error('expected a run config');
    expect(r.config.forward).toEqual({ kind: 'tcp', host: 'jumpcloud-fluent-bit', port: 24224 });
    expect(r.config.fluentBitHttp).toEqual({ host: 'jumpcloud-fluent-bit', port: 2020 });
    // Only the collector reaches Fluent Bit's ports.
    const policy = find('NetworkPolicy').spec as Obj;
    expect(policy.podSelector.matchLabels).toEqual(fb.metadata.labels);
    expect(policy.ingress[0].from[0].podSelector.matchLabels).toEqual(sts.spec.template.metadata.labels);
    expect((policy.ingress[0].ports as Obj[]).map((p) => p.port).sort()).toEqual([2020, port]);
  });
});
