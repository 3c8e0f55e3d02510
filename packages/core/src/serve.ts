import { SseError } from './errors.js';
import { defaultHeaders, lowerCaseKeys } from './headers.js';
import { kCloseWith, kTrack, kAdmit, kReportError, registryInternals, type InternalStream } from './internal/protocol.js';
import { isRejection, reject, toRejection, type PlainRejection, type Rejection } from './rejection.js';
import type { StreamRegistry } from './registry.js';
import { acceptsEventStream, readLastEventId, type RequestFacts } from './request.js';
import type { SseSink } from './sink.js';
import { createEventStream } from './stream.js';
import type { EventMap, EventStream, EventStreamOptions } from './stream-types.js';

/** The handler users write: it gets the stream first, then the framework's own objects. */
export type SseHandler<Args extends unknown[], E extends EventMap = EventMap> = (
  stream: EventStream<E>,
  ...args: Args
) => unknown;

export interface ServeOptions<Args extends unknown[]> extends Omit<EventStreamOptions, 'lastEventId'> {
  /**
   * Runs before any stream header is written, and fails closed: only `true` opens the stream.
   * `false` answers 403; a {@link reject}ion, or one written by hand (`{ status: 401 }`,
   * `{ status: 204 }`, `{ status: 429, retryAfter: 30 }`), answers itself. Anything else
   * (`undefined`, `null`, `0`, `''`, an object without a numeric `status`) answers 403 too and is
   * reported to `onError` as `SseError` `ERR_SSE_AUTHORIZE_RESULT`: `(req) => req.user &&
   * req.user.isAdmin` refuses a request without a user instead of letting it in. May be async.
   * An error it throws, or a rejection that cannot be answered (status 200 or out of range: also
   * `ERR_SSE_AUTHORIZE_RESULT`), goes to the framework's error handling (no stream was opened).
   * It runs for `HEAD` requests too, which are answered like a `GET` without a body.
   */
  authorize?: (...args: Args) => AuthorizeResult | Promise<AuthorizeResult>;
  /**
   * Called when the handler throws or rejects, or a `stream.pipe()` source fails (awaited or
   * not); the stream is closed (reason `'error'`). Never sends a 500: the response is already
   * streaming. Also told (before a 403) when `authorize` returned neither `true`, `false` nor a
   * rejection. Defaults to `console.error`.
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

/** What `authorize` returns: `true` opens the stream, `false` answers 403, a rejection answers itself. */
export type AuthorizeResult = boolean | Rejection | PlainRejection;

/** What an adapter tells `serveEventStream` about the request, and how to answer it. */
export interface ServeIO {
  /** What the flow reads from the request (see `requestFacts`). */
  request: RequestFacts;
  /** Creates the sink; only called once the request was authorized. */
  createSink(): SseSink;
  /**
   * Writes a plain response for a rejection (406, 403, 429, 503, 204…) instead of a stream. Also
   * answers a `HEAD`: status 200, the event-stream headers and an empty body (the adapter's
   * server sends no body for a HEAD anyway).
   */
  respond(rejection: Rejection): void | Promise<void>;
}

/** Everything `serveEventStream` needs for one request. */
export interface ServeEventStreamInit<Args extends unknown[], E extends EventMap = EventMap> extends ServeIO {
  /** What the handler (and `authorize`, `onError`, `clientKey`) receive after the stream. */
  args: Args;
  handler: SseHandler<Args, E>;
  options?: ServeOptions<Args> | undefined;
}

const defaultOnError = (error: unknown): void => {
  console.error('[@sse] event stream handler failed; the stream was closed:', error);
};

const defaultOnAuthorizeResult = (error: unknown): void => {
  console.error('[@sse] the request was refused with 403:', error);
};

/** Names what `authorize` returned, for `ERR_SSE_AUTHORIZE_RESULT`. */
function describeVerdict(verdict: unknown): string {
  if (typeof verdict === 'string') return JSON.stringify(verdict);
  if (typeof verdict === 'object' && verdict !== null) return 'an object without a numeric status';
  if (typeof verdict === 'function') return 'a function';
  return String(verdict);
}

/** The answer to an `authorize` that did not say `true`; throws for a rejection that cannot be answered. */
function refusal(verdict: unknown): { rejection: Rejection; error?: SseError } {
  if (verdict === false) return { rejection: reject(403) };
  if (isRejection(verdict)) {
    try {
      return { rejection: toRejection(verdict) };
    } catch (cause) {
      throw new SseError(
        'ERR_SSE_AUTHORIZE_RESULT',
        `authorize returned a rejection that cannot be answered (${(cause as Error).message}); return true to open the stream, false or a reject(...) with a status from 201 to 599 to refuse`,
        { cause },
      );
    }
  }
  return {
    rejection: reject(403),
    error: new SseError(
      'ERR_SSE_AUTHORIZE_RESULT',
      `authorize must return true to open the stream, false or a reject(...) to refuse; it returned ${describeVerdict(verdict)}, so the request was refused with 403`,
    ),
  };
}

/**
 * The request flow every adapter shares: authorize, open the stream, run the handler, and
 * route a handler failure to `onError` and a clean close. Resolves with the stream, or
 * `undefined` when the request was rejected. Throws `SseHeadersSentError` (from the sink) when
 * the response was already started.
 */
export async function serveEventStream<Args extends unknown[], E extends EventMap = EventMap>(
  init: ServeEventStreamInit<Args, E>,
): Promise<EventStream<E> | undefined> {
  const { request, args, handler } = init;
  const { authorize, onError, maxLastEventIdLength, registry: publicRegistry, clientKey, checkAccept, ...streamOptions } = init.options ?? {};
  const registry = publicRegistry === undefined ? undefined : registryInternals(publicRegistry, 'request flow (serveEventStream)');
  // onError with the request's arguments, or the default; a hook that throws is logged, never rethrown.
  const report = (error: unknown, fallback: (error: unknown) => void): void => {
    try {
      if (onError === undefined) fallback(error);
      else onError(error, ...args);
    } catch (hookError) {
      defaultOnError(hookError);
    }
  };
  if (checkAccept !== false && !acceptsEventStream(request.accept)) {
    await init.respond(reject(406, { body: 'This endpoint serves text/event-stream; send Accept: text/event-stream.' }));
    return undefined;
  }
  if (registry?.draining === true) {
    await init.respond(registry[kAdmit](undefined, request.accept) ?? reject(503));
    return undefined;
  }
  if (authorize !== undefined) {
    const verdict: unknown = await authorize(...args);
    if (verdict !== true) {
      const { rejection, error } = refusal(verdict);
      if (error !== undefined) report(error, defaultOnAuthorizeResult);
      await init.respond(rejection);
      return undefined;
    }
  }
  const lastEventId = readLastEventId(
    request.lastEventIdHeader,
    request.url,
    maxLastEventIdLength === undefined ? {} : { maxLength: maxLastEventIdLength },
  );
  // Admission and tracking happen with no await in between, so concurrent requests cannot overshoot a cap.
  const key = registry === undefined ? undefined : (clientKey?.(...args) ?? request.clientAddress);
  const admission = registry?.[kAdmit](key, request.accept);
  if (admission !== undefined) {
    await init.respond(admission);
    return undefined;
  }
  if (request.method === 'HEAD') {
    // What a GET would be told, without a body: no handler, no stream, no registry slot, no timer.
    // (Connection is left to the server: it knows whether the client asked to close.)
    await init.respond({ status: 200, headers: { ...defaultHeaders(undefined), ...lowerCaseKeys(streamOptions.headers) }, body: '' });
    return undefined;
  }
  const stream = createEventStream<E>(init.createSink(), { ...streamOptions, lastEventId }) as EventStream<E> & InternalStream;
  registry?.[kTrack](stream, key);
  // A pipe() whose promise the handler did not return reports here; if it did return it, the
  // same failure also reaches `fail` and is not reported twice.
  let pipeFailure: { error: unknown } | undefined;
  stream[kReportError]((error) => {
    pipeFailure = { error };
    report(error, defaultOnError);
  });
  const fail = (error: unknown): void => {
    if (pipeFailure === undefined || pipeFailure.error !== error) report(error, defaultOnError);
    stream[kCloseWith]('error', error);
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

