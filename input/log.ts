// Structured JSON logs (pino) to stderr, so stdout stays free for --help, --print-config and progress.
// Secrets are never passed to the logger; the redaction paths are defence in depth for anything that slips through.
import { pino, type Logger as PinoLogger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const SECRET_KEYS = [
  'apiKey',
  'api_key',
  'api-key',
  'x-api-key',
  'clientSecret',
  'client_secret',
  'client-secret',
  'sharedKey',
  'shared_key',
  'shared-key',
  'password',
  'authorization',
  'Authorization',
  'token',
  'access_token',
];

/**
 * pino redaction paths: each secret key at the top level and up to three levels down (config.auth.apiKey, headers…).
 */
const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((k) => {
  const plain = /^[A-Za-z_$][\w$]*$/.test(k);
  const at = (prefix: string): string => (plain ? `${prefix}.${k}` : `${prefix}["${k}"]`);
  return [plain ? k : `["${k}"]`, at('*'), at('*.*'), at('*.*.*')];
});

export const REDACTED = '[redacted]';

export function createLogger(options: {
  readonly level: LogLevel;
  /** Defaults to stderr (fd 2). */
  readonly destination?: number | { write(line: string): unknown };
  readonly name?: string;
}): PinoLogger {
  const dest = options.destination ?? 2;
  const stream =
    typeof dest === 'number'
      ? pino.destination({ dest, sync: true })
      : { write: (line: string) => void dest.write(line) };
  return pino(
    {
      name: options.name ?? 'fluent-bit-jumpcloud',
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
    },
    stream,
  );
}

/**
 * A status line (the backfill bar) and log lines sharing one terminal: a log line first clears the bar's line, so
 * that it never lands after the bar's text; the bar is drawn again at its next update.
 */
export interface StatusLine {
  readonly isTTY: boolean;
  /** For the bar: text written as is; a line is open until a newline ends it. */
  write(s: string): boolean;
  /** For a log line: clears an open bar first. */
  writeLog(line: string): boolean;
}

export function statusLine(out: { isTTY?: boolean; write(s: string): boolean }): StatusLine {
  let open = false;
  return {
    isTTY: out.isTTY === true,
    write(s) {
      open = !s.endsWith('\n');
      return out.write(s);
    },
    writeLog(line) {
      if (open) {
        out.write('\r\x1b[2K');
        open = false;
      }
      return out.write(line);
    },
  };
}
