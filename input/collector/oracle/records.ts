// How many records (and bytes of them) one Fluent Bit input has stored, from its HTTP server's `/api/v1/metrics`
// (`{"input": {"<name or Alias>": {"records": N, "bytes": B}, ...}, ...}`, the JSON form of
// fluentbit_input_records_total and fluentbit_input_bytes_total). Fluent Bit adds to both when its engine appends
// a forward message's records to a chunk (input_chunk_append_raw): all the entries of one forward chunk at once,
// before the filters; the bytes are the entries' msgpack as the collector wrote them (measured: 5.1.1, 4.2.8).
import type { Clock } from '../../types.js';
import { FluentBitHttpError, fluentBitUrl, getFluentBitJson, type FluentBitHttpTarget } from './http.js';

/** The counters of an input, read at `at` (the clock's time of the answer). */
export interface RecordsReading {
  readonly at: number;
  readonly records: number;
  readonly bytes: number;
}

/** The named input is not in Fluent Bit's metrics: its config names it otherwise. */
export class FluentBitInputMissingError extends FluentBitHttpError {
  static override readonly code: string = 'FLUENT_BIT_INPUT_MISSING';
  constructor(
    readonly input: string,
    readonly inputs: readonly string[],
    where: string,
  ) {
    super(
      `Fluent Bit's ${where} lists no input "${input}" (it has ${inputs.length > 0 ? inputs.join(', ') : 'none'}): ` +
        `give the forward input that receives the collector \`Alias ${input}\` (as the shipped fluent-bit.conf does) ` +
        'or set --fluent-bit-input to its name',
    );
  }
}

export class FluentBitRecords {
  readonly where: string;

  constructor(
    target: FluentBitHttpTarget,
    readonly input: string,
    private readonly clock: Clock,
    private readonly timeoutMs = 5000,
  ) {
    this.where = fluentBitUrl(target, '/api/v1/metrics');
  }

  async read(): Promise<RecordsReading> {
    const { at, body, text } = await getFluentBitJson(this.where, this.timeoutMs, this.clock);
    const inputs = body !== null && typeof body === 'object' ? (body as { input?: unknown }).input : undefined;
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw new FluentBitHttpError(
        `${this.where} answered without an "input" object (got ${text.slice(0, 80)}): is that Fluent Bit's HTTP ` +
          `server?`,
      );
    }
    const entry = (inputs as Record<string, unknown>)[this.input];
    if (entry === undefined) throw new FluentBitInputMissingError(this.input, Object.keys(inputs), this.where);
    const { records, bytes } = (entry !== null && typeof entry === 'object' ? entry : {}) as {
      records?: unknown;
      bytes?: unknown;
    };
    const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (!count(records) || !count(bytes)) {
      throw new FluentBitHttpError(
        `${this.where}: input "${this.input}" has no records and bytes counts (got ` +
          `${JSON.stringify(entry).slice(0, 80)})`,
      );
    }
    return { at, records, bytes };
  }
}
