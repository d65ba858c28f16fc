// deploy/kubernetes: every manifest parses as Kubernetes reads it (YAML 1.1), the pieces refer to each other
// correctly, and the collector's environment, expanded the way the kubelet does for pod jumpcloud-collector-2,
// loads into a config for shard 2 of N. No cluster here: this is what can be checked without one.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../input/config.js';
// @ts-expect-error plain JS module of the deploy directory
import { parseEnvFile, renderConfigMaps } from '../../../deploy/kubernetes/sync-fluent-bit-config.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dir = path.join(root, 'deploy/kubernetes');

type Obj = Record<string, any>;

function docs(file: string): Obj[] {
  const text = readFileSync(path.join(dir, file), 'utf8');
  const parsed = parseAllDocuments(text, { version: '1.1' });
  const list = Array.isArray(parsed) ? parsed : [parsed];
  for (const d of list) expect(d.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
  return list.map((d) => d.toJS() as Obj).filter((o) => o !== null);
}

const all = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const objects = all.flatMap((f) => docs(f).map((o) => ({ file: f, o })));
const find = (kind: string, name: string): Obj => {
  const hit = objects.find(({ o }) => o.kind === kind && o.metadata?.name === name);
  if (!hit) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return hit.o;
};

describe('deploy/kubernetes', () => {
  it('parses: every file, every document, with apiVersion, kind and name', () => {
    expect(all.length).toBeGreaterThanOrEqual(6);
    for (const { file, o } of objects) {
      expect(typeof o.apiVersion, file).toBe('string');
      expect(typeof o.kind, file).toBe('string');
      if (o.kind !== 'Kustomization') expect(typeof o.metadata?.name, file).toBe('string');
    }
  });

  it(
    'a StatefulSet: a volume per replica for state, Fluent Bit beside the collector, probes and scraping on the ' +
      'metrics port',
    () => {
      const sts = find('StatefulSet', 'jumpcloud-collector');
      const pod = sts.spec.template;
      expect(sts.spec.selector.matchLabels).toEqual(pod.metadata.labels);
      const svc = find('Service', sts.spec.serviceName);
      expect(svc.spec.clusterIP).toBe('None');
      expect(svc.spec.selector).toEqual(pod.metadata.labels);
      expect(sts.spec.volumeClaimTemplates.map((v: Obj) => v.metadata.name)).toEqual(['state']);
      const containers = Object.fromEntries(pod.spec.containers.map((c: Obj) => [c.name, c]));
      expect(Object.keys(containers).sort()).toEqual(['collector', 'fluent-bit']);
      const collector = containers.collector;
      const env = Object.fromEntries(collector.env.map((e: Obj) => [e.name, e]));
      const port = collector.ports.find((p: Obj) => p.name === 'metrics').containerPort;
      expect(env.JUMPCLOUD_METRICS_PORT.value).toBe(String(port));
      expect(env.JUMPCLOUD_METRICS_HOST.value).toBe('0.0.0.0');
      for (const probe of [collector.readinessProbe, collector.livenessProbe])
        expect(probe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
      expect(pod.metadata.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(port),
        'prometheus.io/path': '/metrics',
      });
      // State on the claim; the key file inside the mounted Secret.
      const mounts = Object.fromEntries(collector.volumeMounts.map((m: Obj) => [m.name, m]));
      expect(env.JUMPCLOUD_STATE_DIR.value.startsWith(mounts.state.mountPath + '/')).toBe(true);
      expect(path.dirname(env.JUMPCLOUD_API_KEY_FILE.value)).toBe(mounts.credentials.mountPath);
      const volumes = Object.fromEntries(pod.spec.volumes.map((v: Obj) => [v.name, v]));
      expect(volumes.credentials.secret.items.map((i: Obj) => i.path)).toContain(
        path.basename(env.JUMPCLOUD_API_KEY_FILE.value),
      );
      // Fluent Bit's buffer on the claim too, and its config from the ConfigMap.
      const fb = containers['fluent-bit'];
      expect(fb.volumeMounts.some((m: Obj) => m.name === 'state')).toBe(true);
      expect(fb.args).toEqual(['-c', '/fluent-bit/etc/jumpcloud/fluent-bit.yaml']);
    },
  );

  it('JUMPCLOUD_SHARD=$(POD_NAME)/N, N = replicas: expanded as the kubelet does, pod -2 collects shard 2 of N', () => {
    const sts = find('StatefulSet', 'jumpcloud-collector');
    const collector = sts.spec.template.spec.containers.find((c: Obj) => c.name === 'collector');
    const n = sts.spec.replicas;
    expect(collector.env.find((e: Obj) => e.name === 'JUMPCLOUD_SHARD').value).toBe(`$(POD_NAME)/${n}`);
    // The kubelet: envFrom first, then env in order, $(VAR) replaced by variables defined before it.
    const configMap = find('ConfigMap', collector.envFrom[0].configMapRef.name);
    const podName = `${sts.metadata.name}-2`;
    const env: Record<string, string> = { ...configMap.data };
    for (const e of collector.env) {
      if (e.valueFrom) {
        expect(e.valueFrom.fieldRef?.fieldPath ?? 'not a fieldRef').toBe('metadata.name');
        env[e.name] = podName;
      } else {
        env[e.name] = String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => env[v] ?? m);
      }
    }
    expect(env.JUMPCLOUD_SHARD).toBe(`jumpcloud-collector-2/${n}`);
    // The collector's own config loader accepts that environment (the key file stands for the mounted Secret).
    env.JUMPCLOUD_API_KEY_FILE = path.join(root, 'package.json');
    env.JUMPCLOUD_STATE_DIR = path.join(root, 'no-such-state-dir');
    const r = loadConfig({ argv: [], env, now: Date.now() });
    if (r.kind !== 'run') throw new Error('expected a run config');
    expect(r.config.shard).toEqual({ index: 2, count: n });
    expect(r.config.orgIds.length).toBeGreaterThan(0);
    expect(r.config.metrics).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(r.config.forward).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 24224 });
    // The restart oracle: the HTTP server of the Fluent Bit in this pod, and its forward input's Alias.
    const fbEnv = find('ConfigMap', 'fluent-bit-env').data;
    expect(r.config.fluentBitHttp).toEqual({
      host: fbEnv.FLUENT_BIT_HTTP_LISTEN,
      port: Number(fbEnv.FLUENT_BIT_HTTP_PORT),
    });
    expect(r.config.forward).toMatchObject({ port: Number(fbEnv.FORWARD_PORT) });
    expect(r.config.fluentBitInput).toBe('jumpcloud_forward');
    expect(find('ConfigMap', 'fluent-bit-config').data['fluent-bit.yaml']).toMatch(/^\s+alias: jumpcloud_forward$/m);
  });

  it(
    'the Fluent Bit ConfigMap is the shipped configuration (regenerate: node ' +
      'deploy/kubernetes/sync-fluent-bit-config.mjs)',
    () => {
      expect(readFileSync(path.join(dir, 'fluent-bit-configmap.yaml'), 'utf8')).toBe(renderConfigMaps());
      const config = find('ConfigMap', 'fluent-bit-config');
      expect(config.data['fluent-bit.yaml']).toBe(readFileSync(path.join(root, 'fluent-bit.yaml'), 'utf8'));
      // Every include of fluent-bit.yaml (active or commented out) is mounted where the include points.
      const sts = find('StatefulSet', 'jumpcloud-collector');
      const vol = sts.spec.template.spec.volumes.find((v: Obj) => v.name === 'fluent-bit-config').configMap;
      expect(vol.name).toBe('fluent-bit-config');
      const mounted = Object.fromEntries(vol.items.map((i: Obj) => [i.path, i.key]));
      const includes = [...config.data['fluent-bit.yaml'].matchAll(/^\s*#?\s*- (conf\/output-[a-z]+\.yaml)$/gm)].map(
        (m) => m[1]!,
      );
      expect(includes.length).toBeGreaterThanOrEqual(3);
      for (const inc of includes)
        expect(config.data[mounted[inc]], inc).toBe(readFileSync(path.join(root, inc), 'utf8'));
      // Every variable of conf/jumpcloud.env is set, as a string (YAML 1.1 would read a bare off as a boolean).
      const envMap = find('ConfigMap', 'fluent-bit-env');
      for (const key of Object.keys(parseEnvFile(readFileSync(path.join(root, 'conf/jumpcloud.env'), 'utf8'))))
        expect(typeof envMap.data[key], key).toBe('string');
      const fb = sts.spec.template.spec.containers.find((c: Obj) => c.name === 'fluent-bit');
      expect(fb.envFrom[0].configMapRef.name).toBe('fluent-bit-env');
      expect(
        envMap.data.JUMPCLOUD_WASM_PATH.startsWith(fb.volumeMounts.find((m: Obj) => m.name === 'wasm').mountPath + '/'),
      ).toBe(true);
      expect(envMap.data.FORWARD_PORT).toBe('24224');
    },
  );

  it('every ConfigMap value is a string under YAML 1.1', () => {
    for (const { file, o } of objects.filter(({ o }) => o.kind === 'ConfigMap' || o.kind === 'Secret')) {
      for (const [k, v] of Object.entries(o.data ?? o.stringData ?? {}))
        expect(typeof v, `${file}: ${k}`).toBe('string');
    }
  });
});

describe('the kustomization', () => {
  it('names only files that exist, and every manifest but the example Secret', () => {
    const k = objects.find(({ o }) => o.kind === 'Kustomization')!.o;
    for (const r of k.resources) expect(existsSync(path.join(dir, r)), r).toBe(true);
    expect([...k.resources].sort()).toEqual(
      all.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml').sort(),
    );
    expect(k.images.map((i: Obj) => i.name)).toContain('fluent-bit-jumpcloud');
  });
});
