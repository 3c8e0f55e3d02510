/** Default cap on the length of a `Last-Event-ID`, in characters. */
export const DEFAULT_MAX_LAST_EVENT_ID_LENGTH = 1024;

const decoder = new TextDecoder('utf-8');

/**
 * Header values reach servers as byte strings: Node and Fetch show each byte as one latin1
 * character. Browsers send `Last-Event-ID` as UTF-8, so the bytes are decoded again here.
 * Invalid UTF-8 becomes U+FFFD (such an id can never match one this library issued).
 */
export function decodeHeaderBytes(value: string): string {
  let ascii = true;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0xff) return value; // already decoded text, not bytes
    if (code > 0x7f) ascii = false;
  }
  if (ascii) return value;
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i);
  return decoder.decode(bytes);
}

export interface LastEventIdOptions {
  /** Ids longer than this are ignored, as if none was sent. Defaults to `1024`. */
  maxLength?: number;
  /** Name of the query parameter read when the header is absent (polyfills). Defaults to `'lastEventId'`. */
  queryParam?: string | false;
}

/**
 * Reads the id a reconnecting client last saw: the `Last-Event-ID` header, else the
 * `lastEventId` query parameter that EventSource polyfills use. Returns `undefined` on a first
 * connection, and for an empty or over-long id.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html#last-event-id
 */
export function readLastEventId(
  header: string | readonly string[] | null | undefined,
  url?: string | URL,
  options: LastEventIdOptions = {},
): string | undefined {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LAST_EVENT_ID_LENGTH;
  const queryParam = options.queryParam ?? 'lastEventId';
  let raw: string | undefined;
  if (typeof header === 'string') raw = decodeHeaderBytes(header);
  else if (Array.isArray(header) && typeof header[0] === 'string') raw = decodeHeaderBytes(header[0]);
  if ((raw === undefined || raw === '') && url !== undefined && queryParam !== false) {
    const query = queryOf(url);
    if (query !== undefined) {
      try {
        raw = new URLSearchParams(query).get(queryParam) ?? undefined;
      } catch {
        raw = undefined;
      }
    }
  }
  if (raw === undefined || raw === '' || raw.length > maxLength) return undefined;
  return raw;
}

function queryOf(url: string | URL): string | undefined {
  if (typeof url !== 'string') return url.search;
  const mark = url.indexOf('?');
  if (mark === -1) return undefined;
  const hash = url.indexOf('#', mark);
  return url.slice(mark + 1, hash === -1 ? undefined : hash);
}

/** Headers every event stream starts with. */
export function defaultHeaders(httpVersion: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'text/event-stream; charset=utf-8',
    // no-transform: proxies and compressors must not buffer or rewrite the stream.
    'cache-control': 'no-cache, no-transform',
    // nginx buffers proxied responses unless told otherwise.
    'x-accel-buffering': 'no',
  };
  // Connection is a hop-by-hop header that HTTP/2 and HTTP/3 forbid.
  if (httpVersion !== undefined && httpVersion.startsWith('1')) headers.connection = 'keep-alive';
  return headers;
}
