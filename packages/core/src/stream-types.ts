import type { Serializer } from './format.js';

/** Maps event names to the type of their `data`. */
export type EventMap = Record<string, unknown>;

/** The data type of an event sent without a name (`message`). */
export type MessageData<E extends EventMap> = 'message' extends keyof E ? E['message'] : unknown;

/** One event for `send`, type-checked against the stream's event map. */
export type StreamEvent<E extends EventMap = EventMap> =
  | {
      [K in keyof E & string]: { event: K; data: E[K]; id?: string | number | undefined; retry?: number | undefined };
    }[keyof E & string]
  | { event?: undefined; data?: MessageData<E>; id?: string | number | undefined; retry?: number | undefined };

/** Data that `send(data)` accepts directly: anything but a plain object (that would be read as event fields). */
export type SendableData = string | number | boolean | null | readonly unknown[];

/** What happens when a client reads slower than events are produced. */
export type SlowClientPolicy = 'disconnect' | 'drop-oldest';

/**
 * Every reason a stream can close, in one list (the registry's counters and its Prometheus export
 * iterate it): the client left, the server closed it, the client was too slow, the handler
 * failed, the server shut down, the lifetime ran out, the connection stalled.
 */
export const CLOSE_REASONS = ['client', 'server', 'slow-client', 'error', 'shutdown', 'lifetime', 'stalled'] as const;

/** Why a stream closed: one of {@link CLOSE_REASONS}. */
export type CloseReason = (typeof CLOSE_REASONS)[number];

export interface CloseInfo {
  reason: CloseReason;
  /** The error behind an `'error'` close. */
  error?: unknown;
}

export interface SlowClientInfo {
  policy: SlowClientPolicy;
  /** Bytes waiting in the stream's queue when the bound was crossed. */
  bufferedBytes: number;
  /** With `'drop-oldest'`: events and bytes dropped so far on this stream. */
  droppedEvents: number;
  droppedBytes: number;
}

export interface EventStreamOptions {
  /** Extra response headers; they override the defaults. */
  headers?: Record<string, string>;
  /**
   * Interval of keep-alive comments in milliseconds, counted from the last write, so that idle
   * proxies do not close the connection. `false` or `0` turns them off. Defaults to `15_000`.
   */
  keepAlive?: number | false;
  /**
   * A `retry` (reconnection delay, ms) sent as soon as the stream opens, spread by `retryJitter`.
   * https://html.spec.whatwg.org/multipage/server-sent-events.html#concept-event-stream-reconnection-time
   */
  retry?: number;
  /**
   * Spreads `retry` per stream by up to this fraction either way (with the default, `retry: 3000`
   * goes out as a value from 2700 to 3300), so that clients cut off together do not reconnect
   * together. `0` sends `retry` exactly. Defaults to `0.1`.
   */
  retryJitter?: number;
  /**
   * Closes the stream cleanly (reason `'lifetime'`) after this many ms, so that a platform or
   * proxy timeout never cuts an event in half; the client reconnects with `Last-Event-ID`.
   * Defaults to no limit.
   */
  maxLifetimeMs?: number;
  /**
   * Shortens each stream's lifetime by a random fraction up to this, to spread reconnects. `0`
   * keeps `maxLifetimeMs` exactly. Defaults to `0.1`.
   */
  lifetimeJitter?: number;
  /**
   * Closes the stream (reason `'stalled'`) when the connection has been full for this many ms
   * without draining: a client that stopped reading or a half-open connection. Also bounds how
   * long a clean close waits for a stalled client. `0` turns it off. Defaults to `30_000`.
   */
  stallTimeoutMs?: number;
  /**
   * Bound on the bytes queued for a client whose connection is full. Past it, `slowClient`
   * applies. Defaults to `1_048_576` (1 MiB).
   */
  maxBufferedBytes?: number;
  /**
   * Largest event (or comment) this stream writes, in bytes of its encoded frame. `send()` and
   * `comment()` throw `SseError` `ERR_SSE_EVENT_TOO_LARGE` past it and write nothing; a larger
   * broadcast from a channel is not written to this stream. It can never exceed `maxBufferedBytes`
   * (a larger value throws `ERR_SSE_OPTION`; the default is capped to it), so no single event,
   * even into an idle connection, gets past the byte bound. Defaults to `262_144` (256 KiB).
   */
  maxEventBytes?: number;
  /** What to do past `maxBufferedBytes`. Defaults to `'disconnect'`. */
  slowClient?: SlowClientPolicy;
  /**
   * With `slowClient: 'drop-oldest'`, the event that takes the place of dropped events: the next
   * frame the client gets after a drop is this event, data `{"reason":"dropped"}`, no `id` (see
   * `GapInfo`), once per run of drops. `false` sends none. Defaults to `'sse-gap'` (`GAP_EVENT`).
   */
  gapEvent?: string | false;
  /**
   * Called when the byte bound is crossed (once per episode of slowness), and when a topic hub or
   * channel closes the stream because its replay could not keep up (10,000 live events held).
   */
  onSlowClient?: (info: SlowClientInfo) => void;
  /** Serializer for non-string data. Defaults to `JSON.stringify`. */
  serialize?: Serializer;
  /** The id the client last saw, as read by the adapter (see `readLastEventId`). */
  lastEventId?: string | undefined;
  /** Closes the stream (reason `'shutdown'`) when it aborts, e.g. on server shutdown. */
  signal?: AbortSignal;
}

export const DEFAULT_KEEP_ALIVE_MS = 15_000;
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BUFFERED_BYTES = 1_048_576;
/** Default of `maxEventBytes`, on streams and channels: 256 KiB. */
export const DEFAULT_MAX_EVENT_BYTES = 262_144;
/** Default of both `retryJitter` and `lifetimeJitter`. */
export const DEFAULT_JITTER = 0.1;

/** The stream handed to user code. */
export interface EventStream<E extends EventMap = EventMap> {
  /**
   * Sends one event. A plain object is read as event fields `{ event, data, id, retry }`;
   * anything else is the data of a `message` event (wrap an object as `{ data: obj }`).
   * Returns `false` when the stream is closed. Throws `SseFormatError` on invalid fields and
   * `SseError` `ERR_SSE_EVENT_TOO_LARGE` past `maxEventBytes`; nothing is written then.
   */
  send(event: StreamEvent<E>): boolean;
  send(data: SendableData): boolean;
  /** Sends a comment line (ignored by clients). Throws `ERR_SSE_EVENT_TOO_LARGE` past `maxEventBytes`. */
  comment(text?: string): boolean;
  /**
   * Sends every item of an iterable as an event, waiting while the client is slow. Stops the
   * iterator (`return()`) when the stream closes. Resolves when the iterable ends or the
   * stream closes; rejects with the iterable's error (or a `send` error). Such a failure also
   * closes the stream (reason `'error'`) and, under `sse()`, goes to `onError`, whether or not
   * the promise is awaited: a pipe nobody awaits never becomes an unhandled rejection.
   */
  pipe(source: AsyncIterable<StreamEvent<E> | SendableData> | Iterable<StreamEvent<E> | SendableData>): Promise<void>;
  /** Ends the stream cleanly: queued events are still delivered. */
  close(): void;
  /** Aborts when the client leaves or the stream closes, for whatever reason. */
  readonly signal: AbortSignal;
  /** Resolves (never rejects) once the stream has closed, with the reason. */
  readonly closed: Promise<CloseInfo>;
  /** Whether the stream has closed. */
  readonly isClosed: boolean;
  /** The id the client last saw (from `Last-Event-ID`); `undefined` on a first connection. */
  readonly lastEventId: string | undefined;
  /** Whether an event sent now would go straight to the connection (no backpressure). */
  readonly writable: boolean;
  /** Bytes waiting in this stream's queue because the connection is full. */
  readonly bufferedBytes: number;
  /** Resolves `true` when the stream can take events without queueing, `false` if it closed. */
  whenWritable(): Promise<boolean>;
}

/** Any stream, whatever its event map (channels and registries take every kind). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEventStream = EventStream<any>;
