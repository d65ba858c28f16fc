// The "Operation" options (metrics endpoint, log level, the demo's output file, --print-config) and the "Testing" ones (the shared
// accelerated clock).
import { resolve as resolvePath } from 'node:path';
import { LOG_LEVELS, type LogLevel } from '../log.js';
import type { CollectorConfig } from '../types.js';
import type { Settings } from './sources.js';
import { invalid } from './spec.js';
import { toBool, toInt, toText } from './values.js';

export interface OperationSettings {
  readonly metrics: CollectorConfig['metrics'];
  readonly logLevel: LogLevel;
  readonly printConfig: boolean;
  /** --demo-output: where the demo's in-process mapping writes its documents (unset: the default temp file). */
  readonly demoOutput: string | undefined;
}

export function operationSettings(s: Settings): OperationSettings {
  const metricsPortRaw = s.get('metrics-port');
  const metricsHost = s.text('metrics-host')!;
  const levelRaw = s.req('log-level');
  const logLevel = toText(s.opt('log-level'), levelRaw).trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw invalid(s.opt('log-level'), levelRaw.source, `"${logLevel}" is not a level: expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const demoOutputRaw = s.get('demo-output');
  return {
    metrics: metricsPortRaw ? { host: metricsHost, port: toInt(s.opt('metrics-port'), metricsPortRaw) } : undefined,
    logLevel: logLevel as LogLevel,
    printConfig: toBool(s.opt('print-config'), s.req('print-config')),
    demoOutput: demoOutputRaw ? resolvePath(s.cwd, toText(s.opt('demo-output'), demoOutputRaw).trim()) : undefined,
  };
}

export function testingSettings(s: Settings): { readonly clockSpec: string | undefined } {
  return { clockSpec: s.envOnly('clock') };
}
