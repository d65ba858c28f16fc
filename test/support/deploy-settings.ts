// The collector's environment as each shipped deployment sets it, read from the deployment's own files: the systemd
// unit's Environment= lines, the Kubernetes pod's env (its ConfigMap, then the container's env, expanded as the
// kubelet does for one pod) and the compose file's collector service. Tests run the collector on exactly these
// settings, with only what a test machine must change (addresses, paths, credentials) rewritten by the caller.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const DEPLOYMENTS = ['systemd', 'kubernetes', 'compose'] as const;
export type Deployment = (typeof DEPLOYMENTS)[number];

type Obj = Record<string, any>;

/** `Environment=KEY=VALUE` lines of a systemd unit, in order (a later one wins, as in systemd). */
export function systemdEnv(
  unit = readFileSync(path.join(REPO, 'deploy/systemd/fluent-bit-jumpcloud.service'), 'utf8'),
) {
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment=(?:"([^"]*)"|(\S+))$/gm)) {
    const kv = (m[1] ?? m[2])!;
    const eq = kv.indexOf('=');
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

function kubernetesObjects(): Obj[] {
  const dir = path.join(REPO, 'deploy/kubernetes');
  return ['collector-configmap.yaml', 'statefulset.yaml'].flatMap((f) =>
    parseAllDocuments(readFileSync(path.join(dir, f), 'utf8'), { version: '1.1' }).map((d) => d.toJS() as Obj),
  );
}

/**
 * The collector container's environment in pod `<statefulset>-<ordinal>`: envFrom's ConfigMap first, then env in
 * order, `$(VAR)` replaced by variables defined before it, metadata.name from the pod name. Secrets stay out (the
 * caller gives the credentials).
 */
export function kubernetesEnv(ordinal: number): { env: Record<string, string>; replicas: number } {
  const objects = kubernetesObjects();
  const sts = objects.find((o) => o.kind === 'StatefulSet')!;
  const collector = (sts.spec.template.spec.containers as Obj[]).find((c) => c.name === 'collector')!;
  const env: Record<string, string> = {};
  for (const from of collector.envFrom ?? []) {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef.name);
    if (!cm) throw new Error(`no ConfigMap ${from.configMapRef.name} in deploy/kubernetes`);
    Object.assign(env, cm.data);
  }
  const podName = `${sts.metadata.name}-${ordinal}`;
  for (const e of collector.env as Obj[]) {
    if (e.valueFrom) {
      if (e.valueFrom.fieldRef?.fieldPath !== 'metadata.name')
        throw new Error(`env ${e.name}: only metadata.name is known here`);
      env[e.name] = podName;
    } else env[e.name] = String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => env[v] ?? m);
  }
  return { env, replicas: sts.spec.replicas as number };
}

/** The compose file's collector service environment. */
export function composeEnv(): Record<string, string> {
  const compose = parseYaml(readFileSync(path.join(REPO, 'deploy/compose.yaml'), 'utf8')) as Obj;
  const env = compose.services.collector.environment as Record<string, unknown>;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}
