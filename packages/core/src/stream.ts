import { checkOption } from './check-option.js';
import { SseError } from './errors.js';
import { encodeWithin } from './event-size.js';
import { encodeFrame, formatComment, formatEvent, serializeJson, type Serializer } from './format.js';
import { defaultHeaders, lowerCaseKeys } from './headers.js';
import {
  CORE_IDENTITY,
  kBeginBatch,
  kCloseWith,
  kCreatedBy,
  kEndBatch,
  kFinished,
  kForceAbort,
  kObserve,
  kOffClose,
  kOnClose,
  kReplayed,
  kReportError,
  kWriteFrame,
  type CloseListener,
  type PipeErrorReporter,
  type StreamInternals,
  type StreamObserver,
} from './internal/protocol.js';
import { Queue } from './queue.js';
import { checkGapEventName, encodeGapFrame } from './gap.js';
import { formatSendArgument } from './send-argument.js';
import { sinkDrained, sinkGone, type SinkListener, type SseSink } from './sink.js';
import {
  DEFAULT_JITTER,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_STALL_TIMEOUT_MS,
  type CloseInfo,
  type CloseReason,
  type EventMap,
  type EventStream,
  type EventStreamOptions,
  type SendableData,
  type SlowClientInfo,
  type SlowClientPolicy,
  type StreamEvent,
} from './stream-types.js';
import { jittered, unrefTimer } from './timers.js';

/** Queued events are written in batches of about this size when the client drains. */
const DRAIN_BATCH_BYTES = 64 * 1024;

/**
 * Frames batched by a fan-out (see {@link kBeginBatch}) leave in one write once they reach this
 * size: what a sink holds beyond its own bound stays about what one event's write left there.
 */
const WRITE_BATCH_BYTES = 16 * 1024;

// The last few batches joined: a fan-out hands consecutive streams the same frames, joined once.
const JOINED_KEPT = 4;
const joinedParts: Array<readonly Uint8Array[]> = [];
const joinedBytes: Uint8Array[] = [];
let joinedNext = 0;

function joinFrames(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  search: for (let k = 0; k < joinedParts.length; k++) {
    const kept = joinedParts[k]!;
    if (kept.length !== parts.length) continue;
    for (let i = 0; i < parts.length; i++) if (kept[i] !== parts[i]) continue search;
    return joinedBytes[k]!;
  }
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  joinedParts[joinedNext] = parts;
  joinedBytes[joinedNext] = joined;
  joinedNext = (joinedNext + 1) % JOINED_KEPT;
  return joined;
}

/**
 * Opens an event stream over a sink: writes the status and headers, starts keep-alives, and
 * returns the object user code sends events through.
 */
export function createEventStream<E extends EventMap = EventMap>(
  sink: SseSink,
  options: EventStreamOptions = {},
): EventStream<E> {
  return new EventStreamImpl<E>(sink, resolveSettings(options), options.lastEventId);
}

/**
 * What a stream reads of its options, checked and resolved once. The request flow shares one per
 * route between all its streams (see `routeStreamSettings`), so an idle stream holds one
 * reference instead of a field per option.
 */
export interface StreamSettings {
  readonly serialize: Serializer;
  readonly maxBufferedBytes: number;
  readonly maxEventBytes: number;
  readonly policy: SlowClientPolicy;
  readonly onSlowClient: ((info: SlowClientInfo) => void) | undefined;
  /** With `drop-oldest`: the gap event queued in place of dropped events. */
  readonly dropGapFrame: Uint8Array | undefined;
  readonly keepAliveMs: number;
  readonly signal: AbortSignal | undefined;
  readonly stallTimeoutMs: number;
  readonly headers: Record<string, string>;
  readonly retry: number | undefined;
  readonly retryJitter: number;
  readonly maxLifetimeMs: number | undefined;
  readonly lifetimeJitter: number;
}

/** Checks the options and resolves their defaults; throws what a bad option throws, before anything reaches the wire. */
function resolveSettings(options: EventStreamOptions): StreamSettings {
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const policy = options.slowClient ?? 'disconnect';
  const keepAliveMs = options.keepAlive === false ? 0 : (options.keepAlive ?? DEFAULT_KEEP_ALIVE_MS);
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  checkOption.nonNegativeNumber('maxBufferedBytes', maxBufferedBytes);
  const maxEvent = maxEventBytes(options.maxEventBytes, maxBufferedBytes);
  checkOption.oneOf<SlowClientPolicy>('slowClient', policy, ['disconnect', 'drop-oldest']);
  const gapEvent = checkGapEventName(options.gapEvent);
  checkOption.milliseconds('keepAlive (or false)', keepAliveMs);
  checkOption.nonNegativeNumber('stallTimeoutMs', stallTimeoutMs);
  const lifetimeJitter = options.lifetimeJitter ?? DEFAULT_JITTER;
  if (options.maxLifetimeMs !== undefined) jittered(options.maxLifetimeMs, lifetimeJitter, 'maxLifetimeMs', 'lifetimeJitter', -1);
  const retryJitter = options.retryJitter ?? DEFAULT_JITTER;
  if (options.retry !== undefined) {
    formatEvent({ retry: options.retry }); // SseFormatError for a retry the client could not parse
    jittered(options.retry, retryJitter, 'retry', 'retryJitter', 0);
  }
  return {
    serialize: options.serialize ?? serializeJson,
    maxBufferedBytes,
    maxEventBytes: maxEvent,
    policy,
    onSlowClient: options.onSlowClient,
    dropGapFrame: policy === 'drop-oldest' && gapEvent !== false ? encodeGapFrame(gapEvent, { reason: 'dropped' }) : undefined,
    keepAliveMs,
    signal: options.signal,
    stallTimeoutMs,
    headers: lowerCaseKeys(options.headers),
    retry: options.retry,
    retryJitter,
    maxLifetimeMs: options.maxLifetimeMs,
    lifetimeJitter,
  };
}

const routeSettings = new WeakMap<object, StreamSettings>();

/**
 * The stream settings of a route's options object: resolved when its first stream opens and kept
 * with the object, so the route's options are read once (a bad option still throws for every
 * request, since nothing is kept for it).
 */
export function routeStreamSettings(options: EventStreamOptions | undefined): StreamSettings {
  const key = options ?? NO_OPTIONS;
  let settings = routeSettings.get(key);
  if (settings === undefined) {
    settings = resolveSettings(key);
    routeSettings.set(key, settings);
  }
  return settings;
}

/** Opens a stream with settings resolved already (the request flow's way in). */
export function openEventStream<E extends EventMap = EventMap>(sink: SseSink, settings: StreamSettings, lastEventId: string | undefined): EventStream<E> {
  return new EventStreamImpl<E>(sink, settings, lastEventId);
}

const NO_OPTIONS: EventStreamOptions = {};

// The stream lifecycle: the only place that holds a connection's timers and listeners.
class EventStreamImpl<E extends EventMap> implements EventStream<E>, StreamInternals, SinkListener {
  declare readonly [kCreatedBy]: string;
  readonly lastEventId: string | undefined;
  readonly #sink: SseSink;
  readonly #settings: StreamSettings;
  #controller: AbortController | undefined;
  #closeInfo: CloseInfo | undefined;
  #closed: Promise<CloseInfo> | undefined;
  #closeListeners: CloseListener | CloseListener[] | undefined;
  #reportError: PipeErrorReporter | undefined;
  #resolveClosed: ((info: CloseInfo) => void) | undefined;
  // Created when the connection first fills up: most streams never queue anything.
  #queue: Queue<Uint8Array> | undefined;
  #queuedBytes = 0;
  /** Frames a fan-out batches into one sink write (see {@link kBeginBatch}), while it does. */
  #batch: Uint8Array[] | undefined;
  #batchBytes = 0;
  #sinkFull = false;
  #isClosed = false;
  #slowEpisode = false;
  #droppedEvents = 0;
  #droppedBytes = 0;
  // Milliseconds since TIME_BASE as an int32 (see clock()): V8 keeps it inline, where a Date.now() would be boxed.
  #lastWriteAt = 0;
  #openBytes = 0;
  #keepAliveTimer: ReturnType<typeof setTimeout> | undefined;
  #lifetimeTimer: ReturnType<typeof setTimeout> | undefined;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #observer: StreamObserver | undefined;
  #finished: Promise<void> = RESOLVED;
  #waiters: Array<(writable: boolean) => void> | undefined;
  #onShutdown: (() => void) | undefined;
  #keepAliveCallback: (() => void) | undefined;
  /** For a sink without `listen`: the listener on its signal, removed at close. */
  #onClientGone: (() => void) | undefined;

  constructor(sink: SseSink, settings: StreamSettings, lastEventId: string | undefined) {
    this.#sink = sink;
    this.#settings = settings;
    this.lastEventId = lastEventId;
    const lifetimeMs = settings.maxLifetimeMs === undefined ? undefined : jittered(settings.maxLifetimeMs, settings.lifetimeJitter, 'maxLifetimeMs', 'lifetimeJitter', -1);
    const retryFrame = settings.retry === undefined ? undefined : formatEvent({ retry: Math.round(jittered(settings.retry, settings.retryJitter, 'retry', 'retryJitter', 0)) });

    sink.open(200, { ...defaultHeaders(sink.httpVersion), ...settings.headers });
    if (sink.listen !== undefined) {
      if (sink.listen(this)) {
        this.#close('client');
        return;
      }
    } else {
      sink.onDrain(() => this.#drained());
      if (sink.signal.aborted) {
        this.#close('client');
        return;
      }
      this.#onClientGone = () => this.#close('client');
      sink.signal.addEventListener('abort', this.#onClientGone, { once: true });
    }
    const external = settings.signal;
    if (external !== undefined) {
      if (external.aborted) {
        this.#close('shutdown');
        return;
      }
      this.#onShutdown = () => this.#close('shutdown');
      external.addEventListener('abort', this.#onShutdown, { once: true });
    }
    // Bytes at open: fronts that hold the head until the first body byte (Caddy `encode`, nginx
    // HTTP/2, Bun) would otherwise keep a quiet stream from firing `open`.
    const openFrame = retryFrame === undefined ? KEEP_ALIVE_FRAME : encodeFrame(retryFrame);
    this[kWriteFrame](openFrame, undefined, true);
    this.#openBytes = openFrame.byteLength;
    if (settings.keepAliveMs > 0) this.#armKeepAlive(settings.keepAliveMs);
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

  [kOnClose](listener: CloseListener): void {
    const listeners = this.#closeListeners;
    if (this.#isClosed) listener.streamClosed();
    // One listener (the hub or channel it joined) is the common case: kept without an array.
    else if (listeners === undefined) this.#closeListeners = listener;
    else if (!Array.isArray(listeners)) this.#closeListeners = [listeners, listener];
    else listeners.push(listener);
  }

  [kOffClose](listener: CloseListener): void {
    const listeners = this.#closeListeners;
    if (listeners === listener) this.#closeListeners = undefined;
    else if (Array.isArray(listeners)) {
      const index = listeners.indexOf(listener);
      if (index !== -1) listeners.splice(index, 1);
    }
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
    return this[kWriteFrame](encodeWithin(formatSendArgument(value, this.#settings.serialize), this.#settings.maxEventBytes, 'an event'));
  }

  comment(text?: string): boolean {
    if (this.#isClosed) return false;
    return this[kWriteFrame](encodeWithin(formatComment(text), this.#settings.maxEventBytes, 'a comment'), undefined, true);
  }

  close(): void {
    this.#close('server');
  }

  [kCloseWith](reason: CloseReason, error?: unknown): void {
    if (reason === 'slow-client' && !this.#isClosed) {
      // A topic hub or channel gave up on a client too slow for its replay: reported as the byte bound is.
      const info = this.#slowInfo();
      this.#close(reason, error);
      this.#reportSlow(info);
      return;
    }
    this.#close(reason, error);
  }

  whenWritable(): Promise<boolean> {
    if (this.#isClosed) return Promise.resolve(false);
    if (this.writable) return Promise.resolve(true);
    return new Promise((resolve) => (this.#waiters ??= []).push(resolve));
  }

  pipe(source: AsyncIterable<StreamEvent<E> | SendableData> | Iterable<StreamEvent<E> | SendableData>): Promise<void> {
    const piped = this.#pipe(source);
    // A handler may not return (or await) this promise: its failure is routed here, so it can never
    // become an unhandled rejection (which ends a Node process), and still rejects for those who await it.
    piped.catch((error: unknown) => {
      try {
        this.#reportError?.pipeFailed(error);
      } catch {
        // The reporter is the request flow's onError, already guarded; nothing else may throw here.
      }
      this.#close('error', error);
    });
    return piped;
  }

  [kReportError](reporter: PipeErrorReporter): void {
    this.#reportError = reporter;
  }

  async #pipe(
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
    // Past the bound even into an idle connection: a frame larger than this is never written whole.
    if (this.#isClosed || chunk.byteLength > this.#settings.maxEventBytes) return false;
    this.#lastWriteAt = clock(now ?? Date.now());
    this.#observer?.onWrite?.(chunk.byteLength, isComment);
    if (this.#batch !== undefined && !this.#sinkFull && this.#queuedBytes === 0) {
      if (this.#batchBytes + chunk.byteLength > WRITE_BATCH_BYTES) this.#writeBatch();
      if (this.#isClosed) return false;
      if (!this.#sinkFull) {
        this.#batch.push(chunk);
        this.#batchBytes += chunk.byteLength;
        return true;
      }
    }
    if (!this.#sinkFull && this.#queuedBytes === 0) {
      this.#writeToSink(chunk);
      return !this.#isClosed;
    }
    (this.#queue ??= new Queue()).push(chunk);
    this.#queuedBytes += chunk.byteLength;
    if (this.#queuedBytes > this.#settings.maxBufferedBytes) this.#overflow();
    return !this.#isClosed;
  }

  [kBeginBatch](): void {
    if (!this.#isClosed) this.#batch ??= [];
  }

  [kEndBatch](): void {
    if (this.#batch === undefined) return;
    this.#writeBatch();
    this.#batch = undefined;
  }

  /** Writes what was batched so far as one chunk (every frame in it whole), and batching goes on. */
  #writeBatch(): void {
    const batch = this.#batch!;
    if (batch.length === 0) return;
    const size = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    if (!this.#isClosed) this.#writeToSink(joinFrames(batch, size));
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
      if (this.#settings.stallTimeoutMs > 0 && !this.#isClosed) {
        this.#stallTimer = setTimeout(() => this.#onStalled(), this.#settings.stallTimeoutMs);
        unrefTimer(this.#stallTimer);
      }
    }
  }

  #onStalled(): void {
    this.#stallTimer = undefined;
    if (this.#sinkFull) this.#close('stalled');
  }

  #overflow(): void {
    if (this.#settings.policy === 'disconnect') {
      const info = this.#slowInfo();
      this.#close('slow-client');
      this.#reportSlow(info);
      return;
    }
    const queue = this.#queue!;
    // The gap event takes the place of what is dropped, at the head of the queue, so it is the
    // next frame the client gets; one stays there for a whole run of drops, until it is written.
    const gap = this.#settings.dropGapFrame;
    const gapQueued = gap !== undefined && queue.at(0) === gap;
    if (gapQueued) {
      queue.shift();
      this.#queuedBytes -= gap.byteLength;
    }
    const room = gap?.byteLength ?? 0;
    let dropped = 0;
    while (this.#queuedBytes + room > this.#settings.maxBufferedBytes && queue.length > 0) {
      const chunk = queue.shift()!;
      this.#queuedBytes -= chunk.byteLength;
      this.#droppedEvents++;
      this.#droppedBytes += chunk.byteLength;
      dropped++;
    }
    if (gap !== undefined && (gapQueued || dropped > 0)) {
      queue.unshift(gap);
      this.#queuedBytes += gap.byteLength;
      if (!gapQueued) this.#observer?.onWrite?.(gap.byteLength, false);
    }
    if (!this.#slowEpisode) {
      this.#slowEpisode = true;
      this.#reportSlow(this.#slowInfo());
    }
  }

  #slowInfo(): SlowClientInfo {
    return {
      policy: this.#settings.policy,
      bufferedBytes: this.#queuedBytes,
      droppedEvents: this.#droppedEvents,
      droppedBytes: this.#droppedBytes,
    };
  }

  #reportSlow(info: SlowClientInfo): void {
    this.#observer?.onSlowClient?.(info);
    try {
      this.#settings.onSlowClient?.(info);
    } catch {
      // A failing report hook must not take the stream down with it.
    }
  }

  /** Takes queued events off the head, joined into one chunk of about `limit` bytes (at least one event). */
  #takeBatch(queue: Queue<Uint8Array>, limit: number): Uint8Array {
    const first = queue.at(0)!;
    if (first.byteLength >= limit || queue.length === 1) {
      queue.shift();
      this.#queuedBytes -= first.byteLength;
      return first;
    }
    let size = 0;
    let count = 0;
    while (count < queue.length && (size === 0 || size + queue.at(count)!.byteLength <= limit)) {
      size += queue.at(count)!.byteLength;
      count++;
    }
    const batch = new Uint8Array(size);
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const chunk = queue.shift()!;
      batch.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.#queuedBytes -= size;
    return batch;
  }

  /** Told by a sink with `listen`: the transport can take more. */
  [sinkDrained](): void {
    this.#drained();
  }

  /** Told by a sink with `listen`: the client has gone. */
  [sinkGone](): void {
    this.#close('client');
  }

  #drained(): void {
    if (this.#isClosed) return;
    this.#sinkFull = false;
    if (this.#stallTimer !== undefined) {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
    }
    const queue = this.#queue;
    while (queue !== undefined && !this.#sinkFull && queue.length > 0 && !this.#isClosed) {
      this.#writeToSink(this.#takeBatch(queue, DRAIN_BATCH_BYTES));
    }
    if (this.writable) {
      this.#slowEpisode = false;
      const waiters = this.#waiters;
      this.#waiters = undefined;
      if (waiters !== undefined) for (const resolve of waiters) resolve(true);
    }
  }

  #armKeepAlive(delay: number): void {
    this.#keepAliveTimer = setTimeout((this.#keepAliveCallback ??= () => this.#onKeepAlive()), delay);
    unrefTimer(this.#keepAliveTimer);
  }

  #onKeepAlive(): void {
    if (this.#isClosed) return;
    const idle = (clock(Date.now()) - this.#lastWriteAt) | 0;
    if (idle >= this.#settings.keepAliveMs) {
      // A client that is not reading gains nothing from more bytes.
      if (this.writable) this[kWriteFrame](KEEP_ALIVE_FRAME, undefined, true);
      else this.#lastWriteAt = clock(Date.now());
      if (!this.#isClosed) this.#armKeepAlive(this.#settings.keepAliveMs);
    } else {
      this.#armKeepAlive(this.#settings.keepAliveMs - idle);
    }
  }

  #close(reason: CloseReason, error?: unknown): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearTimeout(this.#keepAliveTimer);
    clearTimeout(this.#lifetimeTimer);
    clearTimeout(this.#stallTimer);
    this.#keepAliveTimer = this.#lifetimeTimer = this.#stallTimer = undefined;
    if (this.#sink.listen !== undefined) this.#sink.listen(undefined);
    else if (this.#onClientGone !== undefined) this.#sink.signal.removeEventListener('abort', this.#onClientGone);
    if (this.#onShutdown !== undefined) this.#settings.signal?.removeEventListener('abort', this.#onShutdown);
    const graceful = reason === 'server' || reason === 'shutdown' || reason === 'lifetime';
    const batch = this.#batch;
    this.#batch = undefined;
    try {
      if (graceful) {
        // Batched and queued events are whole frames: hand them over so the client gets them before the end.
        if (batch !== undefined && batch.length > 0) this.#sink.write(joinFrames(batch, this.#batchBytes));
        const queue = this.#queue;
        while (queue !== undefined && queue.length > 0) {
          this.#sink.write(this.#takeBatch(queue, Number.POSITIVE_INFINITY));
        }
        const finished = this.#sink.close();
        if (finished !== undefined) this.#finished = Promise.resolve(finished).catch(() => undefined);
        if (this.#sinkFull && this.#settings.stallTimeoutMs > 0) {
          // The end only reaches a client that reads: do not let a stalled one hold the socket.
          const sink = this.#sink;
          unrefTimer(setTimeout(() => sink.abort(), this.#settings.stallTimeoutMs));
        }
      } else {
        this.#sink.abort();
      }
    } catch {
      // The connection is already gone; there is nobody left to tell.
    }
    this.#queue = undefined;
    this.#queuedBytes = 0;
    this.#batchBytes = 0;
    const info: CloseInfo = error === undefined ? { reason } : { reason, error };
    this.#closeInfo = info;
    this.#controller?.abort(closedError(info));
    const listeners = this.#closeListeners;
    this.#closeListeners = undefined;
    if (Array.isArray(listeners)) for (const listener of listeners) listener.streamClosed();
    else listeners?.streamClosed();
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

/** A stream's `maxEventBytes`: the given one (never above `maxBufferedBytes`), else the default capped to it. */
function maxEventBytes(given: number | undefined, maxBufferedBytes: number): number {
  if (given === undefined) return maxBufferedBytes > 0 ? Math.min(DEFAULT_MAX_EVENT_BYTES, maxBufferedBytes) : DEFAULT_MAX_EVENT_BYTES;
  checkOption.positiveNumber('maxEventBytes', given);
  if (maxBufferedBytes > 0 && given > maxBufferedBytes) {
    throw new SseError('ERR_SSE_OPTION', `maxEventBytes (${given}) cannot exceed maxBufferedBytes (${maxBufferedBytes}): one event larger than the bound would get past it; lower maxEventBytes or raise maxBufferedBytes`);
  }
  return given;
}

function closedError(info: CloseInfo): SseError {
  return new SseError('ERR_SSE_CLOSED', `event stream closed (${info.reason})`, { cause: info.error });
}

const RESOLVED = Promise.resolve();
/** When this module loaded: write times are kept relative to it (see `#lastWriteAt`). */
const TIME_BASE = Date.now();
/**
 * A time as milliseconds since TIME_BASE, wrapped to an int32: always a small integer, so a stream
 * stores it inline. Differences taken with `| 0` stay exact for any span under 24 days.
 */
const clock = (time: number): number => (time - TIME_BASE) | 0;
const CLOSED: unique symbol = Symbol('closed');
const KEEP_ALIVE_FRAME = encodeFrame(formatComment());

function toAsyncIterator<T>(iterator: Iterator<T>): AsyncIterator<T> {
  return {
    next: () => Promise.resolve(iterator.next()),
    return: (value?: unknown) => Promise.resolve(iterator.return?.(value) ?? { done: true as const, value: undefined as T }),
  };
}

// Every stream names the copy of @sse/core that made it, for ERR_SSE_DUPLICATE_CORE.
Object.defineProperty(EventStreamImpl.prototype, kCreatedBy, { value: CORE_IDENTITY });
