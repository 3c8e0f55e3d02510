import { SseError, SseFormatError } from './errors.js';
import { encodeFrame, formatComment, formatEvent, serializeJson, type Serializer } from './format.js';
import { defaultHeaders } from './request.js';
import type { SseSink } from './sink.js';

/** Maps event names to the type of their `data`. */
export type EventMap = Record<string, unknown>;

type MessageData<E extends EventMap> = 'message' extends keyof E ? E['message'] : unknown;

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

/** Why a stream closed. */
export type CloseReason = 'client' | 'server' | 'slow-client' | 'error' | 'shutdown' | 'lifetime' | 'stalled';

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
   * A `retry` (reconnection delay, ms) sent as soon as the stream opens.
   * https://html.spec.whatwg.org/multipage/server-sent-events.html#concept-event-stream-reconnection-time
   */
  retry?: number;
  /**
   * Spreads `retry` per stream by up to this fraction either way (`0.2` turns 3000 into a value
   * from 2400 to 3600), so that clients cut off together do not reconnect together. Defaults to `0`.
   */
  retryJitter?: number;
  /**
   * Closes the stream cleanly (reason `'lifetime'`) after this many ms, so that a platform or
   * proxy timeout never cuts an event in half; the client reconnects with `Last-Event-ID`.
   * Defaults to no limit.
   */
  maxLifetimeMs?: number;
  /** Shortens each stream's lifetime by a random fraction up to this, to spread reconnects. Defaults to `0.1`. */
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
  /** What to do past `maxBufferedBytes`. Defaults to `'disconnect'`. */
  slowClient?: SlowClientPolicy;
  /** Called when the byte bound is crossed (once per episode of slowness). */
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

/** Internal: writes a pre-encoded frame (used by channels to encode a broadcast once). */
export const kWriteFrame: unique symbol = Symbol('sse.writeFrame');

/** Internal: what lifecycle code (the stream registry) is told about a stream. */
export interface StreamObserver {
  onWrite?(bytes: number, isComment: boolean): void;
  onSlowClient?(info: SlowClientInfo): void;
  onReplay?(count: number): void;
  onClose?(info: CloseInfo): void;
}

/** Internal: attaches an observer, tells it about replays, and forces a stalled close. */
export const kObserve: unique symbol = Symbol('sse.observe');
export const kReplayed: unique symbol = Symbol('sse.replayed');
export const kForceAbort: unique symbol = Symbol('sse.forceAbort');
export const kFinished: unique symbol = Symbol('sse.finished');
/** Internal: runs a callback once the stream closes (channels use it instead of the public signal). */
export const kOnClose: unique symbol = Symbol('sse.onClose');
export const kOffClose: unique symbol = Symbol('sse.offClose');

/** Any stream, whatever its event map (channels and registries take every kind). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEventStream = EventStream<any>;

/** The stream handed to user code. */
export interface EventStream<E extends EventMap = EventMap> {
  /**
   * Sends one event. A plain object is read as event fields `{ event, data, id, retry }`;
   * anything else is the data of a `message` event (wrap an object as `{ data: obj }`).
   * Returns `false` when the stream is closed. Throws `SseFormatError` on invalid fields.
   */
  send(event: StreamEvent<E>): boolean;
  send(data: SendableData): boolean;
  /** Sends a comment line (ignored by clients). */
  comment(text?: string): boolean;
  /**
   * Sends every item of an iterable as an event, waiting while the client is slow. Stops the
   * iterator (`return()`) when the stream closes. Resolves when the iterable ends or the
   * stream closes; rejects with the iterable's error.
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
  /** @internal */
  [kWriteFrame](chunk: Uint8Array, now?: number, isComment?: boolean): boolean;
  /** @internal */
  [kReplayed](count: number): void;
  /** @internal */
  [kObserve](observer: StreamObserver): void;
  /** @internal */
  [kOnClose](listener: () => void): void;
  /** @internal */
  [kOffClose](listener: () => void): void;
  /** @internal */
  readonly [kFinished]: Promise<void>;
  /** @internal */
  [kForceAbort](): void;
}

const FIELD_KEYS = new Set(['data', 'event', 'id', 'retry']);
/** Queued events are written in batches of about this size when the client drains. */
const DRAIN_BATCH_BYTES = 64 * 1024;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Reads the argument of `send`/`broadcast`: a plain object is event fields (unknown keys are
 * refused, since they usually mean an object meant as data), anything else is `data`.
 */
export function toEventFields(value: unknown): Record<string, unknown> {
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (!FIELD_KEYS.has(key)) {
        throw new SseFormatError(
          'message',
          `send() got an object with key "${key}": a plain object is read as event fields { event, data, id, retry }; to send an object as data, wrap it: send({ data: value })`,
        );
      }
    }
    return value;
  }
  if (value === undefined) {
    throw new SseFormatError('data', 'send() needs data or event fields, got undefined');
  }
  return { data: value };
}

/** Encodes the argument of `send` (event fields or bare data) into one frame. */
export function formatSendArgument(value: unknown, serialize: Serializer): string {
  return formatEvent(toEventFields(value), { serialize });
}

function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void } | undefined)?.unref?.();
}

/**
 * Opens an event stream over a sink: writes the status and headers, starts keep-alives, and
 * returns the object user code sends events through.
 */
export function createEventStream<E extends EventMap = EventMap>(
  sink: SseSink,
  options: EventStreamOptions = {},
): EventStream<E> {
  return new EventStreamImpl<E>(sink, options);
}

class EventStreamImpl<E extends EventMap> implements EventStream<E> {
  readonly lastEventId: string | undefined;
  readonly #sink: SseSink;
  #controller: AbortController | undefined;
  #closeInfo: CloseInfo | undefined;
  #closed: Promise<CloseInfo> | undefined;
  #closeListeners: Array<() => void> | undefined;
  readonly #serialize: Serializer;
  readonly #maxBufferedBytes: number;
  readonly #policy: SlowClientPolicy;
  readonly #onSlowClient: ((info: SlowClientInfo) => void) | undefined;
  readonly #keepAliveMs: number;
  readonly #externalSignal: AbortSignal | undefined;
  #resolveClosed: ((info: CloseInfo) => void) | undefined;
  #queue: Uint8Array[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  #sinkFull = false;
  #isClosed = false;
  #slowEpisode = false;
  #droppedEvents = 0;
  #droppedBytes = 0;
  #lastWriteAt = 0;
  #openBytes = 0;
  #keepAliveTimer: ReturnType<typeof setTimeout> | undefined;
  #lifetimeTimer: ReturnType<typeof setTimeout> | undefined;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #stallTimeoutMs: number;
  #observer: StreamObserver | undefined;
  #finished: Promise<void> = RESOLVED;
  #waiters: Array<(writable: boolean) => void> | undefined;
  #onShutdown: (() => void) | undefined;
  #keepAliveCallback: (() => void) | undefined;

  constructor(sink: SseSink, options: EventStreamOptions) {
    this.#sink = sink;
    this.#serialize = options.serialize ?? serializeJson;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#policy = options.slowClient ?? 'disconnect';
    this.#onSlowClient = options.onSlowClient;
    this.#keepAliveMs = options.keepAlive === false ? 0 : (options.keepAlive ?? DEFAULT_KEEP_ALIVE_MS);
    this.#externalSignal = options.signal;
    this.#stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.lastEventId = options.lastEventId;

    if (!(this.#maxBufferedBytes >= 0)) throw new SseError('ERR_SSE_OPTION', `maxBufferedBytes must be a non-negative number, got ${String(options.maxBufferedBytes)}`);
    if (this.#policy !== 'disconnect' && this.#policy !== 'drop-oldest') {
      throw new SseError('ERR_SSE_OPTION', `slowClient must be 'disconnect' or 'drop-oldest', got ${String(options.slowClient)}`);
    }
    if (!(this.#keepAliveMs >= 0) || !Number.isFinite(this.#keepAliveMs)) {
      throw new SseError('ERR_SSE_OPTION', `keepAlive must be a positive number of milliseconds or false, got ${String(options.keepAlive)}`);
    }
    if (!(this.#stallTimeoutMs >= 0)) throw new SseError('ERR_SSE_OPTION', `stallTimeoutMs must be a non-negative number of milliseconds, got ${String(options.stallTimeoutMs)}`);
    const lifetimeMs = options.maxLifetimeMs === undefined ? undefined : jittered(options.maxLifetimeMs, options.lifetimeJitter ?? 0.1, 'maxLifetimeMs', 'lifetimeJitter', -1);
    // Validate before anything reaches the wire.
    let retryFrame: string | undefined;
    if (options.retry !== undefined) {
      formatEvent({ retry: options.retry }); // SseFormatError for a retry the client could not parse
      retryFrame = formatEvent({ retry: Math.round(jittered(options.retry, options.retryJitter ?? 0, 'retry', 'retryJitter', 0)) });
    }

    sink.open(200, { ...defaultHeaders(sink.httpVersion), ...lowerCaseKeys(options.headers) });
    sink.onDrain(this.#onDrain);

    if (sink.signal.aborted) {
      this.#close('client');
      return;
    }
    sink.signal.addEventListener('abort', this.#onClientGone, { once: true });
    if (this.#externalSignal !== undefined) {
      if (this.#externalSignal.aborted) {
        this.#close('shutdown');
        return;
      }
      this.#onShutdown = () => this.#close('shutdown');
      this.#externalSignal.addEventListener('abort', this.#onShutdown, { once: true });
    }
    // Bytes at open: fronts that hold the head until the first body byte (Caddy `encode`, nginx
    // HTTP/2, Bun) would otherwise keep a quiet stream from firing `open`.
    const openFrame = retryFrame === undefined ? KEEP_ALIVE_FRAME : encodeFrame(retryFrame);
    this[kWriteFrame](openFrame, undefined, true);
    this.#openBytes = openFrame.byteLength;
    if (this.#keepAliveMs > 0) this.#armKeepAlive(this.#keepAliveMs);
    if (lifetimeMs !== undefined && !this.#isClosed) {
      this.#lifetimeTimer = setTimeout(() => this.#close('lifetime'), lifetimeMs);
      unrefTimer(this.#lifetimeTimer);
    }
  }

  // Created on first use: an AbortSignal costs about 800 bytes per connection in Node.
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#closeInfo !== undefined) this.#controller.abort(closedError(this.#closeInfo));
    }
    return this.#controller.signal;
  }

  get closed(): Promise<CloseInfo> {
    if (this.#closed === undefined) {
      const info = this.#closeInfo;
      this.#closed = info !== undefined ? Promise.resolve(info) : new Promise((resolve) => (this.#resolveClosed = resolve));
    }
    return this.#closed;
  }

  [kOnClose](listener: () => void): void {
    if (this.#isClosed) listener();
    else (this.#closeListeners ??= []).push(listener);
  }

  [kOffClose](listener: () => void): void {
    const index = this.#closeListeners?.indexOf(listener) ?? -1;
    if (index !== -1) this.#closeListeners!.splice(index, 1);
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  get writable(): boolean {
    return !this.#isClosed && !this.#sinkFull && this.#queuedBytes === 0;
  }

  get bufferedBytes(): number {
    return this.#queuedBytes;
  }

  send(value: StreamEvent<E> | SendableData): boolean {
    if (this.#isClosed) return false;
    return this[kWriteFrame](encodeFrame(formatSendArgument(value, this.#serialize)));
  }

  comment(text?: string): boolean {
    if (this.#isClosed) return false;
    return this[kWriteFrame](encodeFrame(formatComment(text)), undefined, true);
  }

  close(): void {
    this.#close('server');
  }

  /** @internal */
  closeWith(reason: CloseReason, error?: unknown): void {
    this.#close(reason, error);
  }

  whenWritable(): Promise<boolean> {
    if (this.#isClosed) return Promise.resolve(false);
    if (this.writable) return Promise.resolve(true);
    return new Promise((resolve) => (this.#waiters ??= []).push(resolve));
  }

  async pipe(
    source: AsyncIterable<StreamEvent<E> | SendableData> | Iterable<StreamEvent<E> | SendableData>,
  ): Promise<void> {
    const iterator =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<StreamEvent<E> | SendableData>)[Symbol.asyncIterator]()
        : toAsyncIterator((source as Iterable<StreamEvent<E> | SendableData>)[Symbol.iterator]());
    const closedMarker = this.closed.then((): typeof CLOSED => CLOSED);
    let finished = false;
    try {
      while (!this.#isClosed) {
        if (!this.writable && !(await this.whenWritable())) break;
        let next: IteratorResult<StreamEvent<E> | SendableData> | typeof CLOSED;
        try {
          next = await Promise.race([iterator.next(), closedMarker]);
        } catch (error) {
          finished = true; // the iterator threw: it is already done, return() is not called
          throw error;
        }
        if (next === CLOSED) break;
        if (next.done) {
          finished = true;
          break;
        }
        this.send(next.value);
      }
    } finally {
      if (!finished) {
        // Fire and forget: an async generator parked on an await only settles later.
        Promise.resolve()
          .then(() => iterator.return?.())
          .catch(() => undefined);
      }
    }
  }

  [kObserve](observer: StreamObserver): void {
    this.#observer = observer;
    // The frame written at open came before any observer: count it, as the comment it is.
    if (this.#openBytes > 0) observer.onWrite?.(this.#openBytes, true);
  }

  [kReplayed](count: number): void {
    this.#observer?.onReplay?.(count);
  }

  /** Settles once the sink handed the end of the stream over (or at once for sinks that cannot tell). */
  get [kFinished](): Promise<void> {
    return this.#finished;
  }

  /** Aborts a stream whose clean close could not complete (a stalled client). */
  [kForceAbort](): void {
    try {
      this.#sink.abort();
    } catch {
      // Already gone.
    }
  }

  [kWriteFrame](chunk: Uint8Array, now?: number, isComment = false): boolean {
    if (this.#isClosed) return false;
    this.#lastWriteAt = now ?? Date.now();
    this.#observer?.onWrite?.(chunk.byteLength, isComment);
    if (!this.#sinkFull && this.#queuedBytes === 0) {
      this.#writeToSink(chunk);
      return !this.#isClosed;
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.byteLength;
    if (this.#queuedBytes > this.#maxBufferedBytes) this.#overflow();
    return !this.#isClosed;
  }

  #writeToSink(chunk: Uint8Array): void {
    let ok: boolean;
    try {
      ok = this.#sink.write(chunk);
      this.#sink.flush?.();
    } catch (error) {
      this.#close('error', error);
      return;
    }
    if (!ok && !this.#sinkFull) {
      this.#sinkFull = true;
      if (this.#stallTimeoutMs > 0 && !this.#isClosed) {
        this.#stallTimer = setTimeout(() => this.#onStalled(), this.#stallTimeoutMs);
        unrefTimer(this.#stallTimer);
      }
    }
  }

  #onStalled(): void {
    this.#stallTimer = undefined;
    if (this.#sinkFull) this.#close('stalled');
  }

  #overflow(): void {
    if (this.#policy === 'disconnect') {
      const info = this.#slowInfo();
      this.#close('slow-client');
      this.#reportSlow(info);
      return;
    }
    while (this.#queuedBytes > this.#maxBufferedBytes && this.#queueHead < this.#queue.length) {
      const dropped = this.#queue[this.#queueHead]!;
      this.#queue[this.#queueHead] = EMPTY;
      this.#queueHead++;
      this.#queuedBytes -= dropped.byteLength;
      this.#droppedEvents++;
      this.#droppedBytes += dropped.byteLength;
    }
    this.#compactQueue();
    if (!this.#slowEpisode) {
      this.#slowEpisode = true;
      this.#reportSlow(this.#slowInfo());
    }
  }

  #slowInfo(): SlowClientInfo {
    return {
      policy: this.#policy,
      bufferedBytes: this.#queuedBytes,
      droppedEvents: this.#droppedEvents,
      droppedBytes: this.#droppedBytes,
    };
  }

  #reportSlow(info: SlowClientInfo): void {
    this.#observer?.onSlowClient?.(info);
    try {
      this.#onSlowClient?.(info);
    } catch {
      // A failing report hook must not take the stream down with it.
    }
  }

  #compactQueue(): void {
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    } else if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  #takeBatch(limit: number): Uint8Array {
    const first = this.#queue[this.#queueHead]!;
    if (first.byteLength >= limit || this.#queueHead + 1 === this.#queue.length) {
      this.#queue[this.#queueHead++] = EMPTY;
      this.#queuedBytes -= first.byteLength;
      return first;
    }
    let size = 0;
    let end = this.#queueHead;
    while (end < this.#queue.length && (size === 0 || size + this.#queue[end]!.byteLength <= limit)) {
      size += this.#queue[end]!.byteLength;
      end++;
    }
    const batch = new Uint8Array(size);
    let offset = 0;
    for (let i = this.#queueHead; i < end; i++) {
      batch.set(this.#queue[i]!, offset);
      offset += this.#queue[i]!.byteLength;
      this.#queue[i] = EMPTY;
    }
    this.#queueHead = end;
    this.#queuedBytes -= size;
    return batch;
  }

  readonly #onDrain = (): void => {
    if (this.#isClosed) return;
    this.#sinkFull = false;
    if (this.#stallTimer !== undefined) {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
    }
    while (!this.#sinkFull && this.#queueHead < this.#queue.length && !this.#isClosed) {
      this.#writeToSink(this.#takeBatch(DRAIN_BATCH_BYTES));
    }
    this.#compactQueue();
    if (this.writable) {
      this.#slowEpisode = false;
      const waiters = this.#waiters;
      this.#waiters = undefined;
      if (waiters !== undefined) for (const resolve of waiters) resolve(true);
    }
  };

  readonly #onClientGone = (): void => {
    this.#close('client');
  };

  #armKeepAlive(delay: number): void {
    this.#keepAliveTimer = setTimeout((this.#keepAliveCallback ??= () => this.#onKeepAlive()), delay);
    unrefTimer(this.#keepAliveTimer);
  }

  #onKeepAlive(): void {
    if (this.#isClosed) return;
    const idle = Date.now() - this.#lastWriteAt;
    if (idle >= this.#keepAliveMs) {
      // A client that is not reading gains nothing from more bytes.
      if (this.writable) this[kWriteFrame](KEEP_ALIVE_FRAME, undefined, true);
      else this.#lastWriteAt = Date.now();
      if (!this.#isClosed) this.#armKeepAlive(this.#keepAliveMs);
    } else {
      this.#armKeepAlive(this.#keepAliveMs - idle);
    }
  }

  #close(reason: CloseReason, error?: unknown): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearTimeout(this.#keepAliveTimer);
    clearTimeout(this.#lifetimeTimer);
    clearTimeout(this.#stallTimer);
    this.#keepAliveTimer = this.#lifetimeTimer = this.#stallTimer = undefined;
    this.#sink.signal.removeEventListener('abort', this.#onClientGone);
    if (this.#onShutdown !== undefined) this.#externalSignal?.removeEventListener('abort', this.#onShutdown);
    const graceful = reason === 'server' || reason === 'shutdown' || reason === 'lifetime';
    try {
      if (graceful) {
        // Queued events are whole frames: hand them over so the client gets them before the end.
        while (this.#queueHead < this.#queue.length) {
          this.#sink.write(this.#takeBatch(Number.POSITIVE_INFINITY));
        }
        const finished = this.#sink.close();
        if (finished !== undefined) this.#finished = Promise.resolve(finished).catch(() => undefined);
        if (this.#sinkFull && this.#stallTimeoutMs > 0) {
          // The end only reaches a client that reads: do not let a stalled one hold the socket.
          const sink = this.#sink;
          unrefTimer(setTimeout(() => sink.abort(), this.#stallTimeoutMs));
        }
      } else {
        this.#sink.abort();
      }
    } catch {
      // The connection is already gone; there is nobody left to tell.
    }
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedBytes = 0;
    const info: CloseInfo = error === undefined ? { reason } : { reason, error };
    this.#closeInfo = info;
    this.#controller?.abort(closedError(info));
    const listeners = this.#closeListeners;
    this.#closeListeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
    const waiters = this.#waiters;
    this.#waiters = undefined;
    if (waiters !== undefined) for (const resolve of waiters) resolve(false);
    this.#resolveClosed?.(info);
    try {
      this.#observer?.onClose?.(info);
    } catch {
      // Observers are lifecycle code; a failure there must not reach the caller of close().
    }
  }
}

/**
 * A value shortened or spread by a random fraction: `spread` -1 shortens only (lifetimes),
 * 0 spreads either way (retry delays).
 */
function jittered(value: number, jitter: number, name: string, jitterName: string, direction: -1 | 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new SseError('ERR_SSE_OPTION', `${name} must be a non-negative number of milliseconds, got ${String(value)}`);
  }
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw new SseError('ERR_SSE_OPTION', `${jitterName} must be a fraction from 0 to 1, got ${String(jitter)}`);
  }
  if (jitter === 0) return value;
  const offset = direction === -1 ? -Math.random() * jitter : (Math.random() * 2 - 1) * jitter;
  return Math.max(0, value * (1 + offset));
}

function closedError(info: CloseInfo): SseError {
  return new SseError('ERR_SSE_CLOSED', `event stream closed (${info.reason})`, { cause: info.error });
}

const RESOLVED = Promise.resolve();
const EMPTY = new Uint8Array(0);
const CLOSED: unique symbol = Symbol('closed');
const KEEP_ALIVE_FRAME = encodeFrame(formatComment());

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function toAsyncIterator<T>(iterator: Iterator<T>): AsyncIterator<T> {
  return {
    next: () => Promise.resolve(iterator.next()),
    return: (value?: unknown) => Promise.resolve(iterator.return?.(value) ?? { done: true as const, value: undefined as T }),
  };
}

/** Internal: closes a stream with a given reason (used by the handler runner and lifecycle code). */
export function closeEventStream<E extends EventMap>(stream: EventStream<E>, reason: CloseReason, error?: unknown): void {
  if (stream instanceof EventStreamImpl) stream.closeWith(reason, error);
  else stream.close();
}
