// deploy/helm/values-jumpcloud.yaml, checked field by field without helm (test/system/package/deploy-kubernetes.test.ts
// renders it with helm): every key is one the chart (fluent/helm-charts fluent-bit 0.58.1, test fixture) has in its
// values.yaml, the pipeline in config.* is the shipped fluent-bit.conf but for the pod's paths and the HTTP server's
// listen address, and the collector's container points at that Fluent Bit's forward input, HTTP server and Alias.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../input/config.js';
import { ROOT, differences, parseClassic, section, shippedPipeline } from './pipeline-compare.js';

type Obj = Record<string, any>;
const CHART = path.join(ROOT, 'test/unit/deploy/fixtures/fluent-bit-chart-0.58.1');
const overlayText = readFileSync(path.join(ROOT, 'deploy/helm/values-jumpcloud.yaml'), 'utf8');
const overlay = parse(overlayText, { version: '1.1' }) as Obj;
const chart = parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as Obj;

/** Key paths of the overlay that the chart's values.yaml does not have, where the chart's value is a map of keys. */
function unknownKeys(o: Obj, c: Obj, at: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    const here = at ? `${at}.${k}` : k;
    if (!(k in c)) out.push(here);
    else if (v && typeof v === 'object' && !Array.isArray(v) && c[k] && typeof c[k] === 'object') {
      // A map the chart leaves empty ({}) is free-form (podAnnotations, updateStrategy, resources).
      if (Object.keys(c[k] as Obj).length > 0) out.push(...unknownKeys(v as Obj, c[k] as Obj, here));
    }
  }
  return out;
}

/** config.* as the chart's configmap.yaml concatenates it, `{{ .Values.x }}` resolved (overlay, else chart). */
function renderedConfig(): string {
  const values = { ...chart, ...overlay };
  const tpl = (s: string): string =>
    s.replace(/\{\{\s*\.Values\.([A-Za-z]+)\s*\}\}/g, (_m, k: string) => {
      if (values[k] === undefined) throw new Error(`config uses .Values.${k}, which neither file sets`);
      return String(values[k]);
    });
  const c = overlay.config as Obj;
  return ['service', 'inputs', 'filters', 'outputs'].map((k) => tpl(c[k] as string)).join('\n');
}

const collector = (overlay.extraContainers as Obj[]).find((c) => c.name === 'collector')!;
const collectorEnv = Object.fromEntries((collector.env as Obj[]).map((e) => [e.name, String(e.value)]));

describe('deploy/helm/values-jumpcloud.yaml', () => {
  it("uses only values the chart's values.yaml has (fluent-bit 0.58.1)", () => {
    expect(chart.image.repository).toBe('cr.fluentbit.io/fluent/fluent-bit');
    expect(unknownKeys(overlay, chart, '')).toEqual([]);
    // The check can fail: a misspelt key is reported.
    expect(unknownKeys({ extraVolume: [], config: { input: '' } }, chart, '')).toEqual(['extraVolume', 'config.input']);
    expect(overlay.kind).toBe('Deployment');
    expect(overlay.replicaCount).toBe(1);
    expect(overlay.updateStrategy).toEqual({ type: 'Recreate' });
  });

  it('runs the shipped pipeline: service, forward input and wasm filter as fluent-bit.conf sets them', () => {
    const pod = {
      JUMPCLOUD_STORAGE_PATH: '/var/lib/fluent-bit/jumpcloud',
      JUMPCLOUD_WASM_PATH: '/fluent-bit/wasm/jumpcloud.wasm',
      JUMPCLOUD_WASM_DIR: '/fluent-bit/wasm',
    };
    const shipped = shippedPipeline(pod);
    const form = parseClassic(renderedConfig());
    // The chart's probes and Service reach the HTTP server on the pod's IP; Daemon and Health_Check are the chart's.
    expect(
      differences(section(form, 'SERVICE'), section(shipped, 'SERVICE'), { http_listen: '0.0.0.0' }, [
        'daemon',
        'health_check',
      ]),
    ).toEqual([]);
    // tls off is the plugin's default: the overlay leaves it out.
    expect(
      differences(section(form, 'INPUT', 'forward'), section(shipped, 'INPUT', 'forward'), { tls: undefined }),
    ).toEqual([]);
    expect(differences(section(form, 'FILTER', 'wasm'), section(shipped, 'FILTER', 'wasm'))).toEqual([]);
    const stdout = parseClassic(readFileSync(path.join(ROOT, 'conf/output-stdout.conf'), 'utf8'));
    expect(differences(section(form, 'OUTPUT', 'stdout'), section(stdout, 'OUTPUT', 'stdout'))).toEqual([]);
    // The check can fail: an option the shipped pipeline does not have, or a changed value, is reported.
    const wrong = new Map(section(form, 'INPUT', 'forward')).set('threaded', 'off');
    expect(differences(wrong, section(shipped, 'INPUT', 'forward'), { tls: undefined })).toEqual([
      'threaded: off (shipped on)',
    ]);
  });

  it("gives the collector the forward input's address and Alias and the HTTP server; its config loads", () => {
    const form = parseClassic(renderedConfig());
    const service = section(form, 'SERVICE');
    const input = section(form, 'INPUT', 'forward');
    expect(collectorEnv.FLUENT_BIT_FORWARD).toBe(`${input.get('listen')}:${input.get('port')}`);
    expect(collectorEnv.FLUENT_BIT_HTTP).toBe(`127.0.0.1:${service.get('http_port')}`);
    expect(collectorEnv.FLUENT_BIT_INPUT).toBe(input.get('alias'));
    const env: Record<string, string> = {
      ...collectorEnv,
      JUMPCLOUD_API_KEY_FILE: path.join(ROOT, 'package.json'),
      JUMPCLOUD_STATE_DIR: path.join(ROOT, 'no-such-state-dir'),
    };
    const r = loadConfig({ argv: [], env, now: Date.now() });
    if (r.kind !== 'run') throw new Error('expected a run config');
    expect(r.config.fluentBitHttp).toEqual({ host: '127.0.0.1', port: 2020 });
    expect(r.config.fluentBitInput).toBe('jumpcloud_forward');
    expect(r.config.metrics).toEqual({ host: '0.0.0.0', port: 9464 });
  });

  it('mounts the module from the ConfigMap the header creates, and keeps state and buffer on the claim', () => {
    const wasm = section(parseClassic(renderedConfig()), 'FILTER', 'wasm');
    const volumes: Record<string, Obj> = Object.fromEntries((overlay.extraVolumes as Obj[]).map((v) => [v.name, v]));
    const mounts = Object.fromEntries((overlay.extraVolumeMounts as Obj[]).map((m) => [m.name, m]));
    // kubectl -n jumpcloud create configmap <name> --from-file=<key>=build/jumpcloud.wasm
    const m = /kubectl -n jumpcloud create configmap (\S+) --from-file=(\S+)=build\/jumpcloud\.wasm/.exec(overlayText);
    expect(m, 'the header says how to create the ConfigMap').not.toBeNull();
    const wasmVolume = Object.values(volumes as Record<string, Obj>).find((v) => v.configMap?.name === m![1])!;
    expect(path.posix.join(mounts[wasmVolume.name].mountPath, m![2]!)).toBe(wasm.get('wasm_path'));
    expect(wasm.get('accessible_paths')).toBe(mounts[wasmVolume.name].mountPath);
    // The claim deploy/helm/state-pvc.yaml creates; Fluent Bit's storage.path and the collector's state on it.
    const [pvc] = parseAllDocuments(readFileSync(path.join(ROOT, 'deploy/helm/state-pvc.yaml'), 'utf8')).map(
      (d) => d.toJS() as Obj,
    );
    expect(volumes.state.persistentVolumeClaim.claimName).toBe(pvc!.metadata.name);
    const storage = section(parseClassic(renderedConfig()), 'SERVICE').get('storage.path')!;
    expect(storage.startsWith(`${mounts.state.mountPath}/`)).toBe(true);
    const collectorMounts = Object.fromEntries((collector.volumeMounts as Obj[]).map((x) => [x.name, x]));
    expect(collectorEnv.JUMPCLOUD_STATE_DIR.startsWith(`${collectorMounts.state.mountPath}/`)).toBe(true);
    expect(collectorMounts.state.subPath).not.toBe(mounts.state.subPath);
    expect(path.dirname(collectorEnv.JUMPCLOUD_API_KEY_FILE)).toBe(collectorMounts.credentials.mountPath);
  });
});
