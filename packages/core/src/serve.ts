import { SseError } from './errors.js';
import type { StreamRegistry } from './registry.js';
import { readLastEventId } from './request.js';
import type { SseSink } from './sink.js';
import { closeEventStream, createEventStream, type EventMap, type EventStream, type EventStreamOptions } from './stream.js';

/** A plain (non-stream) answer given before any event-stream header: 401, 403, 429, 503, 204… */
export interface Rejection {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RejectInit {
  /** Seconds the client should wait; sent as `Retry-After`. */
  retryAfter?: number;
  headers?: Record<string, string>;
  /** A short text body. Defaults to the status text. Ignored for 204. */
  body?: string;
}

const STATUS_TEXT: Record<number, string> = {
  204: '',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  406: 'Not Acceptable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Builds a rejection for `authorize` (or any guard): the client gets this status instead of a
 * stream. EventSource never reconnects after a non-200 answer; 204 is the polite way to say
 * "stop reconnecting".
 */
export function reject(status: number, init: RejectInit = {}): Rejection {
  if (!Number.isInteger(status) || status < 200 || status > 599 || status === 200) {
    throw new SseError('ERR_SSE_OPTION', `a rejection needs an HTTP status from 201 to 599 other than 200, got ${String(status)}`);
  }
  const headers: Record<string, string> = {};
  if (init.retryAfter !== undefined) {
    if (!Number.isSafeInteger(init.retryAfter) || init.retryAfter < 0) {
      throw new SseError('ERR_SSE_OPTION', `retryAfter must be a non-negative integer of seconds, got ${String(init.retryAfter)}`);
    }
    headers['retry-after'] = String(init.retryAfter);
  }
  for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
  const body = status === 204 ? '' : (init.body ?? STATUS_TEXT[status] ?? '');
  if (body !== '' && headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=utf-8';
  return { status, headers, body };
}

/** Answers 204 No Content: the client's EventSource closes for good instead of reconnecting. */
export function stopReconnecting(): Rejection {
  return reject(204);
}

function isRejection(value: unknown): value is Rejection {
  return value !== null && typeof value === 'object' && typeof (value as Rejection).status === 'number';
}

/** The handler users write: it gets the stream first, then the framework's own objects. */
export type SseHandler<Args extends unknown[], E extends EventMap = EventMap> = (
  stream: EventStream<E>,
  ...args: Args
) => unknown;

export interface ServeOptions<Args extends unknown[]> extends Omit<EventStreamOptions, 'lastEventId'> {
  /**
   * Runs before any stream header is written. Return `true` (or nothing) to open the stream,
   * `false` for 403, or a {@link reject}ion (401, 429 + `Retry-After`, 204…). May be async.
   * An error it throws goes to the framework's error handling (no stream was opened).
   */
  authorize?: (...args: Args) => boolean | Rejection | undefined | void | Promise<boolean | Rejection | undefined | void>;
  /**
   * Called when the handler throws or rejects; the stream is closed (reason `'error'`). Never
   * sends a 500: the response is already streaming. Defaults to `console.error`.
   */
  onError?: (error: unknown, ...args: Args) => void;
  /** Longest `Last-Event-ID` accepted, in characters. Defaults to `1024`. */
  maxLastEventIdLength?: number;
  /** Tracks this route's streams for caps, graceful shutdown and counters (see `createStreamRegistry`). */
  registry?: StreamRegistry;
  /**
   * The key a registry's `maxStreamsPerKey` counts by. Defaults to the client's IP address as the
   * adapter sees it (behind a proxy, return the forwarded address you trust).
   */
  clientKey?: (...args: Args) => string | undefined;
  /**
   * Answer 406 when the request's `Accept` header excludes `text/event-stream` (EventSource always
   * sends it; `*\/*` and no header are accepted). Defaults to `true`.
   */
  checkAccept?: boolean;
}

/** What an adapter gives `serveEventStream` about the request and response. */
export interface ServeIO {
  /** The raw `Last-Event-ID` header value(s). */
  lastEventIdHeader: string | readonly string[] | null | undefined;
  /** The request URL (absolute or path + query), for the `lastEventId` query parameter. */
  url?: string | URL | undefined;
  /** Creates the sink; only called once the request was authorized. */
  createSink(): SseSink;
  /** Writes a plain response for a rejection. */
  reject(rejection: Rejection): void | Promise<void>;
  /** The client's address, the default key of per-client caps. */
  clientAddress?: string | undefined;
  /** The request's `Accept` header. */
  accept?: string | readonly string[] | null | undefined;
}

/** Whether an `Accept` header allows an event stream (absent, `*\/*`, `text/*` or `text/event-stream` with q > 0). */
export function acceptsEventStream(accept: string | readonly string[] | null | undefined): boolean {
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

const defaultOnError = (error: unknown): void => {
  console.error('[@sse] event stream handler failed; the stream was closed:', error);
};

/**
 * The request flow every adapter shares: authorize, open the stream, run the handler, and
 * route a handler failure to `onError` and a clean close. Resolves with the stream, or
 * `undefined` when the request was rejected. Throws `SseHeadersSentError` (from the sink) when
 * the response was already started.
 */
export async function serveEventStream<Args extends unknown[], E extends EventMap = EventMap>(
  io: ServeIO,
  args: Args,
  handler: SseHandler<Args, E>,
  options: ServeOptions<Args> = {},
): Promise<EventStream<E> | undefined> {
  const { authorize, onError, maxLastEventIdLength, registry, clientKey, checkAccept, ...streamOptions } = options;
  if (checkAccept !== false && !acceptsEventStream(io.accept)) {
    await io.reject(reject(406, { body: 'This endpoint serves text/event-stream; send Accept: text/event-stream.' }));
    return undefined;
  }
  if (registry?.draining === true) {
    await io.reject(registry.admit(undefined) ?? reject(503));
    return undefined;
  }
  if (authorize !== undefined) {
    const verdict = await authorize(...args);
    if (verdict === false || isRejection(verdict)) {
      await io.reject(verdict === false ? reject(403) : verdict);
      return undefined;
    }
  }
  const lastEventId = readLastEventId(
    io.lastEventIdHeader,
    io.url,
    maxLastEventIdLength === undefined ? {} : { maxLength: maxLastEventIdLength },
  );
  // Admission and tracking happen with no await in between, so concurrent requests cannot overshoot a cap.
  const key = registry === undefined ? undefined : (clientKey?.(...args) ?? io.clientAddress);
  const refusal = registry?.admit(key);
  if (refusal !== undefined) {
    await io.reject(refusal);
    return undefined;
  }
  const stream = createEventStream<E>(io.createSink(), { ...streamOptions, lastEventId });
  registry?.track(stream, key);
  const fail = (error: unknown): void => {
    try {
      (onError ?? defaultOnError)(error, ...args);
    } catch (hookError) {
      defaultOnError(hookError);
    }
    closeEventStream(stream, 'error', error);
  };
  try {
    const result = handler(stream, ...args);
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(undefined, fail);
    }
  } catch (error) {
    fail(error);
  }
  return stream;
}
