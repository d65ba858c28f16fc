// The few OpenSearch REST calls the tests make, over plain fetch (no client library: the point is to see
// exactly what the engine answers).

export interface Answer<T = any> {
  readonly status: number;
  readonly body: T;
}

export async function call<T = any>(url: string, method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const isText = typeof body === 'string';
  const res = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': isText ? 'application/x-ndjson' : 'application/json' },
    body: body === undefined ? undefined : isText ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed as T };
}

/** Like call(), but a status outside 2xx throws with OpenSearch's own explanation. */
export async function ok<T = any>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const a = await call<T>(url, method, path, body);
  if (a.status < 200 || a.status > 299)
    throw new Error(`${method} ${path}: ${a.status} ${JSON.stringify(a.body).slice(0, 2000)}`);
  return a.body;
}

export interface BulkItem {
  readonly _id: string;
  readonly status: number;
  readonly error?: { type: string; reason: string };
}
export interface BulkResult {
  readonly created: number;
  /** 409: a document with this _id exists already (create never overwrites). */
  readonly conflicts: number;
  /** Every other item that did not answer 201. */
  readonly errors: BulkItem[];
}

/**
 * POST /_bulk; a 429 (the node's circuit breaker or a full write queue) is retried with backoff, as Fluent Bit does.
 */
async function bulk(url: string, body: string): Promise<{ items: Array<{ create: BulkItem }> }> {
  for (let attempt = 0; ; attempt++) {
    const a = await call<{ items: Array<{ create: BulkItem }> }>(url, 'POST', '/_bulk', body);
    if (a.status === 200) return a.body;
    if (a.status !== 429 || attempt >= 10)
      throw new Error(`POST /_bulk: ${a.status} ${JSON.stringify(a.body).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 500 * 2 ** Math.min(attempt, 4)));
  }
}

/** `create` every document (the only operation a data stream takes, and the one Fluent Bit sends), in chunks. */
export async function bulkCreate(
  url: string,
  index: string,
  docs: ReadonlyArray<{ id: string; doc: Record<string, unknown> }>,
  chunk = 2000,
): Promise<BulkResult> {
  let created = 0;
  let conflicts = 0;
  const errors: BulkItem[] = [];
  for (let i = 0; i < docs.length; i += chunk) {
    const lines: string[] = [];
    for (const { id, doc } of docs.slice(i, i + chunk))
      lines.push(JSON.stringify({ create: { _index: index, _id: id } }), JSON.stringify(doc));
    const body = await bulk(url, lines.join('\n') + '\n');
    for (const { create: item } of body.items) {
      if (item.status === 201) created++;
      else if (item.status === 409) conflicts++;
      else errors.push(item);
    }
  }
  return { created, conflicts, errors };
}

export async function count(url: string, index: string, query: unknown = { match_all: {} }): Promise<number> {
  return (await ok<{ count: number }>(url, 'POST', `/${index}/_count`, { query })).count;
}

/** Removes the data stream (if any) and installs the template afresh: each run starts from nothing. */
export async function freshDataStream(
  url: string,
  templateName: string,
  template: unknown,
  stream: string,
): Promise<void> {
  const del = await call(url, 'DELETE', `/_data_stream/${stream}`);
  if (del.status !== 200 && del.status !== 404)
    throw new Error(`DELETE _data_stream/${stream}: ${del.status} ${JSON.stringify(del.body)}`);
  await ok(url, 'PUT', `/_index_template/${templateName}`, template);
  await ok(url, 'PUT', `/_data_stream/${stream}`);
}
