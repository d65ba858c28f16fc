// The "Operation" options (metrics endpoint, log level, the demo's output file, --print-config) and the "Testing"
// ones (the shared accelerated clock).
import { resolve as resolvePath } from 'node:path';
import { LOG_LEVELS, type LogLevel } from '../log.js';
import type { CollectorConfig } from '../types.js';
import { loadScenario, ScenarioError } from '../simulator/scenario/events.js';
import type { Settings } from './sources.js';
import { invalid } from './spec.js';
import { checkReadable, toBool, toInt, toText, type Raw } from './values.js';

export interface OperationSettings {
  readonly metrics: CollectorConfig['metrics'];
  readonly logLevel: LogLevel;
  readonly printConfig: boolean;
  /** --demo-output: where the demo's in-process mapping writes its documents (unset: the default temp file). */
  readonly demoOutput: string | undefined;
  /** --scenario: the demo's scenario file, read and validated here so that a bad one is a config error. */
  readonly scenario: string | undefined;
}

export function operationSettings(s: Settings): OperationSettings {
  const metricsPortRaw = s.get('metrics-port');
  const metricsHost = s.text('metrics-host')!;
  const levelRaw = s.req('log-level');
  const logLevel = toText(s.opt('log-level'), levelRaw).trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw invalid(
      s.opt('log-level'),
      levelRaw.source,
      `"${logLevel}" is not a level: expected one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const demoOutputRaw = s.get('demo-output');
  const scenarioRaw = s.get('scenario');
  return {
    metrics: metricsPortRaw ? { host: metricsHost, port: toInt(s.opt('metrics-port'), metricsPortRaw) } : undefined,
    logLevel: logLevel as LogLevel,
    printConfig: toBool(s.opt('print-config'), s.req('print-config')),
    demoOutput: demoOutputRaw ? resolvePath(s.cwd, toText(s.opt('demo-output'), demoOutputRaw).trim()) : undefined,
    scenario: scenarioRaw ? demoScenario(s, scenarioRaw) : undefined,
  };
}

/** The scenario file, readable and valid (its errors name the file, the step and the fix). */
function demoScenario(s: Settings, raw: Raw): string {
  const path = checkReadable(s.opt('scenario'), raw, s.cwd);
  try {
    loadScenario(path);
  } catch (err) {
    if (err instanceof ScenarioError) throw invalid(s.opt('scenario'), raw.source, err.message);
    throw err;
  }
  return path;
}

export function testingSettings(s: Settings): { readonly clockSpec: string | undefined } {
  return { clockSpec: s.envOnly('clock') };
}
