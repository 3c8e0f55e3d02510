import { kCloseWith, kTrack, kAdmit, registryInternals, type InternalStream } from './internal/protocol.js';
import { isRejection, reject, type Rejection } from './rejection.js';
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

/** What an adapter tells `serveEventStream` about the request, and how to answer it. */
export interface ServeIO {
  /** What the flow reads from the request (see `requestFacts`). */
  request: RequestFacts;
  /** Creates the sink; only called once the request was authorized. */
  createSink(): SseSink;
  /** Writes a plain response for a rejection (406, 403, 429, 503, 204…) instead of a stream. */
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
  if (checkAccept !== false && !acceptsEventStream(request.accept)) {
    await init.respond(reject(406, { body: 'This endpoint serves text/event-stream; send Accept: text/event-stream.' }));
    return undefined;
  }
  if (registry?.draining === true) {
    await init.respond(registry[kAdmit](undefined, request.accept) ?? reject(503));
    return undefined;
  }
  if (authorize !== undefined) {
    const verdict = await authorize(...args);
    if (verdict === false || isRejection(verdict)) {
      await init.respond(verdict === false ? reject(403) : verdict);
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
  const refusal = registry?.[kAdmit](key, request.accept);
  if (refusal !== undefined) {
    await init.respond(refusal);
    return undefined;
  }
  const stream = createEventStream<E>(init.createSink(), { ...streamOptions, lastEventId }) as EventStream<E> & InternalStream;
  registry?.[kTrack](stream, key);
  const fail = (error: unknown): void => {
    try {
      (onError ?? defaultOnError)(error, ...args);
    } catch (hookError) {
      defaultOnError(hookError);
    }
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
