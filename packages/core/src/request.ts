/** Default cap on the length of a `Last-Event-ID`, in characters. */
export const DEFAULT_MAX_LAST_EVENT_ID_LENGTH = 1024;

const decoder = new TextDecoder('utf-8');

/** A header value as frameworks hand it over: Node gives arrays for repeated headers, Fetch gives `null` for absent ones. */
export type HeaderValue = string | readonly string[] | null | undefined;

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
}

/**
 * Reads the id a reconnecting client last saw: the `Last-Event-ID` header, else the
 * `lastEventId` query parameter that EventSource polyfills use. Returns `undefined` on a first
 * connection, and for an empty or over-long id.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html#last-event-id
 */
export function readLastEventId(header: HeaderValue, url?: string | URL, options: LastEventIdOptions = {}): string | undefined {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LAST_EVENT_ID_LENGTH;
  let raw: string | undefined;
  if (typeof header === 'string') raw = decodeHeaderBytes(header);
  else if (Array.isArray(header) && typeof header[0] === 'string') raw = decodeHeaderBytes(header[0]);
  if ((raw === undefined || raw === '') && url !== undefined) {
    const query = queryOf(url);
    if (query !== undefined) {
      try {
        raw = new URLSearchParams(query).get('lastEventId') ?? undefined;
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

/** Whether an `Accept` header allows an event stream (absent, `*\/*`, `text/*` or `text/event-stream` with q > 0). */
export function acceptsEventStream(accept: HeaderValue): boolean {
  if (accept === undefined || accept === null) return true;
  const value = typeof accept === 'string' ? accept : accept.join(',');
  if (value.trim() === '') return true;
  return value.split(',').some((part) => {
    const [range = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const q = params.find((param) => param.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) return false;
    return range === 'text/event-stream' || range === '*/*' || range === 'text/*';
  });
}

/** What the request flow needs to know about a request; build it with {@link requestFacts}. */
export interface RequestFacts {
  /** The request method, upper case (`'GET'`, `'POST'`, `'HEAD'`…). */
  readonly method: string;
  /** The request URL (absolute, or path + query), for the `lastEventId` query parameter. */
  readonly url: string | URL | undefined;
  /** The raw `Last-Event-ID` header. */
  readonly lastEventIdHeader: HeaderValue;
  /** The `Accept` header. */
  readonly accept: HeaderValue;
  /** The client's address as the adapter sees it, the default key of per-client caps. */
  readonly clientAddress: string | undefined;
}

/**
 * A request's headers as the framework holds them: a Fetch `Headers` (anything with
 * `get(name)`), or Node's lower-case record (`req.headers`).
 */
export type HeaderSource = { get(name: string): HeaderValue } | Readonly<Record<string, HeaderValue>>;

export interface RequestFactsInit {
  /** Defaults to `'GET'`. */
  method?: string | undefined;
  url?: string | URL | undefined;
  headers: HeaderSource;
  clientAddress?: string | undefined;
}

/**
 * Reads what the request flow needs from a framework's request: one helper for every adapter,
 * so they all read the same headers the same way.
 */
export function requestFacts(init: RequestFactsInit): RequestFacts {
  const headers = init.headers;
  const get =
    typeof headers.get === 'function'
      ? (name: string): HeaderValue => (headers as { get(name: string): HeaderValue }).get(name)
      : (name: string): HeaderValue => (headers as Readonly<Record<string, HeaderValue>>)[name];
  return {
    method: (init.method ?? 'GET').toUpperCase(),
    url: init.url,
    lastEventIdHeader: get('last-event-id'),
    accept: get('accept'),
    clientAddress: init.clientAddress,
  };
}
