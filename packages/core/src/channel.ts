import { checkOption } from './check-option.js';
import { SseError, SseFormatError } from './errors.js';
import { eventTooLarge, utf8Length } from './event-size.js';
import { checkEventName, checkId, dataToText, encodeFrame, formatEvent, serializeJson, type Serializer } from './format.js';
import { checkGapEventName, encodeGapFrame, type GapInfo } from './gap.js';
import { kBeginBatch, kCloseWith, kEndBatch, kOffClose, kOnClose, kReplayed, kWriteFrame, streamInternals, type CloseListener, type InternalStream } from './internal/protocol.js';
import { DEFAULT_WRITES_PER_TURN, FanOut, type VisitBatch } from './internal/fan-out.js';
import { toEventFields } from './send-argument.js';
import { createMemoryStore, type ChannelEvent, type ChannelEventInput, type ChannelStore, type MemoryStoreOptions, type StoreGap } from './store.js';
import { DEFAULT_MAX_EVENT_BYTES, type AnyEventStream, type EventMap, type MessageData, type SendableData, type StreamEvent } from './stream-types.js';

/**
 * A channel event as filters and `recent()` see it: `data` is the value that was broadcast, typed
 * by the channel's event map (`event` is `undefined` for events sent without a name, `message`).
 */
export type ChannelMessage<E extends EventMap = EventMap> =
  | { [K in keyof E & string]: { id: string; event: K; data: E[K] } }[keyof E & string]
  | { id: string; event: undefined; data: MessageData<E> };

/** How a subscription's replay from `Last-Event-ID` went. */
export type ReplayResult =
  /** No `Last-Event-ID` (a first connection), or replay was turned off. */
  | { status: 'none' }
  /** `count` missed events were sent, in order, before live ones. */
  | { status: 'replayed'; lastEventId: string; count: number }
  /** The id is not in the history (never issued, foreign, or expired): send the client a full refresh. */
  | { status: 'unknown'; lastEventId: string }
  /** The store failed; the subscription continues with live events. */
  | { status: 'error'; lastEventId: string; error: unknown };

export interface ChannelOptions {
  /**
   * Keep the last events in memory so reconnecting clients get what they missed: a count, or
   * `{ limit, maxAgeMs }`. Defaults to no history. Ignored when `store` is given.
   */
  history?: number | MemoryStoreOptions;
  /** Where events go and are remembered (e.g. `@sse/redis`). Defaults to an in-memory store. */
  store?: ChannelStore;
  /** Serializer for non-string data. Defaults to `JSON.stringify`. */
  serialize?: Serializer;
  /** Turns serialized data back into a value for filters, for events from other instances. Defaults to `JSON.parse`. */
  deserialize?: (text: string) => unknown;
  /** Called with store failures and errors thrown by hooks. Defaults to `console.error`. */
  onError?: (error: unknown) => void;
  /**
   * Streams one broadcast writes to per turn of the event loop. A channel with more subscribers
   * gets the event in slices, the rest on the next turns, so other requests are served in
   * between; broadcasts still reach every stream in order.
   * Those queued behind a sliced one wait with at most 1,024 slices of writes; past that, a new
   * one makes the writes it adds at once, so a publisher faster than the machine is held back
   * rather than queued without bound. Broadcasts queued to the same subscribers are joined: a
   * stream reached for several at once gets their frames in one write to its connection (up to
   * 16 broadcasts and 16 KiB a write), so a burst the machine cannot write as fast as it comes costs
   * fewer writes, not more latency. Defaults to `512`.
   */
  writesPerTurn?: number;
  /**
   * Largest event, in bytes of its encoded frame (`id`, `event` and `data` lines). `broadcast()`
   * rejects a larger one with `SseError` `ERR_SSE_EVENT_TOO_LARGE` before publishing (measured
   * without the id a store assigns). A larger event arriving from the store (another instance,
   * anything with write access to a shared store) is not delivered nor replayed: it goes to
   * `onError` with that error, and subscribers are told they missed an event. A subscriber whose
   * own `maxEventBytes` is lower misses it the same way. Defaults to `262_144` (256 KiB).
   */
  maxEventBytes?: number;
  /**
   * The event that tells a subscriber it missed events that cannot be sent to it (its
   * `Last-Event-ID` is unknown, the replay failed, the store trimmed or lost events), before any
   * event after the gap: data `{ reason, lastEventId? }` (see `GapInfo`), no `id`. Another name
   * renames it; `false` sends none (`onReplay` still reports to the server). Defaults to
   * `'sse-gap'` (`GAP_EVENT`).
   */
  gapEvent?: string | false;
}

export interface SubscribeOptions<E extends EventMap = EventMap> {
  /** Only events for which this returns `true` are sent to this stream (live and replayed). */
  filter?: (message: ChannelMessage<E>) => boolean;
  /**
   * Replays missed events: `true` uses the stream's `lastEventId`, a string replays after
   * that id, `false` turns replay off. Defaults to `true`.
   */
  replay?: boolean | string;
  /**
   * Told how the replay went, before any live event is sent; a good place to send a full refresh.
   * For `unknown` and `error` the gap event (see `ChannelOptions.gapEvent`) has already been sent.
   */
  onReplay?: (result: ReplayResult) => void;
}

export interface BroadcastOptions {
  /** Only streams for which this returns `true` receive the event (replays included). Local stores only. */
  filter?: (stream: AnyEventStream) => boolean;
}

export interface Channel<E extends EventMap = EventMap> {
  /**
   * Adds a stream; it leaves by itself when it closes. Returns a function that removes it.
   * Throws `ERR_SSE_ALREADY_SUBSCRIBED` for a stream that is already subscribed to this channel
   * (unsubscribe it first to change its options), and `ERR_SSE_CHANNEL_CLOSED` after `close()`.
   */
  subscribe(stream: AnyEventStream, options?: SubscribeOptions<E>): () => void;
  /**
   * Sends one event to every subscriber. It is encoded once; the same bytes go to each stream.
   * The channel assigns an id when none is given. Resolves with the id; rejects (and calls
   * `onError`) when the store fails, and with `ERR_SSE_CHANNEL_CLOSED` after `close()`.
   * Throws `SseFormatError` synchronously on invalid fields.
   */
  broadcast(event: StreamEvent<E> | SendableData, options?: BroadcastOptions): Promise<string>;
  /**
   * The newest `count` events the history still keeps, oldest first, with `data` as broadcast:
   * what a client whose id was unknown needs for a full refresh. Empty without history.
   */
  recent(count: number): Promise<Array<ChannelMessage<E>>>;
  /** Number of subscribed streams. */
  readonly size: number;
  /**
   * Removes every subscriber (their streams stay open) and stops listening to the store; from
   * then on `subscribe` throws and `broadcast` rejects (`ERR_SSE_CHANNEL_CLOSED`).
   */
  close(): Promise<void>;
}

// A class, and the stream's close listener itself: one subscriber lives as long as its stream, and
// a closure per subscriber (with its scope) would cost some 100 bytes more.
class Subscriber<E extends EventMap> implements CloseListener {
  /** Live events (and gaps) that arrived while the replay was being read. */
  pending: Array<ChannelEvent | PendingGap> | null = null;

  constructor(
    readonly stream: InternalStream,
    readonly filter: ((message: ChannelMessage<E>) => boolean) | undefined,
    /** Removes it from the channel (and itself from the stream's close listeners); one per channel. */
    readonly leave: (subscriber: Subscriber<E>) => void,
  ) {}

  streamClosed(): void {
    this.leave(this);
  }
}

/** A stream visited for several broadcasts at once writes their frames to its connection in one write. */
const BATCH_WRITES: VisitBatch<Subscriber<EventMap>> = {
  begin: (subscriber) => subscriber.stream[kBeginBatch](),
  end: (subscriber) => subscriber.stream[kEndBatch](),
};

/** A gap the store reported while a subscriber's replay was being read: sent in its place. */
interface PendingGap {
  readonly gap: GapInfo;
  /** The first event delivered after the gap, when the store knows it. */
  readonly resumeFrom: string | undefined;
}

const isGap = (entry: ChannelEvent | PendingGap): entry is PendingGap => 'gap' in entry;
/** Live events held per subscriber while its replay is read and written; past it the stream closes as a slow client. */
const MAX_HELD_EVENTS = 10_000;

/**
 * Creates a channel: a group of streams that receive the same broadcasts, with optional history.
 *
 * @deprecated Use a topic hub: a channel is one topic (`createTopicHub()`, then
 * `hub.subscribe(stream, [name])` and `hub.publish(name, event)`), and one stream can hold many.
 * Channels keep working unchanged in 0.x; the migration is in the `@sse/core` README
 * ("From channels to topics").
 */
export function createChannel<E extends EventMap = EventMap>(options: ChannelOptions = {}): Channel<E> {
  return new ChannelImpl<E>(options);
}

const defaultOnError = (error: unknown): void => {
  console.error('[@sse/core] channel error:', error);
};

class ChannelImpl<E extends EventMap> implements Channel<E> {
  readonly #subscribers = new Set<Subscriber<E>>();
  /** Removes a subscriber: what its stream's close and the function `subscribe` returned call. */
  readonly #leave = (subscriber: Subscriber<E>): void => {
    if (!this.#subscribers.delete(subscriber)) return;
    this.#targets = undefined;
    this.#streams.delete(subscriber.stream);
    subscriber.stream[kOffClose](subscriber);
  };
  /** The subscribed streams, to refuse a second subscription of one. */
  readonly #streams = new Set<InternalStream>();
  readonly #store: ChannelStore;
  readonly #serialize: Serializer;
  readonly #deserialize: (text: string) => unknown;
  readonly #onError: (error: unknown) => void;
  readonly #maxEventBytes: number;
  // `null`: too large to deliver (already reported).
  readonly #chunks = new WeakMap<ChannelEvent, Uint8Array | null>();
  readonly #gapEvent: string | false;
  #unlisten: (() => void) | undefined;
  #closed = false;
  readonly #fanOut: FanOut<Subscriber<E>>;
  /**
   * The subscribers not replaying, as an array for sliced broadcasts, made once while they do not
   * change: the broadcasts queued meanwhile then share it, and are joined (see `FanOut`).
   */
  #targets: Array<Subscriber<E>> | undefined;
  /** Subscribers whose replay is being read or written (their live events are held). */
  #replaying = 0;

  constructor(options: ChannelOptions) {
    const history = options.history;
    this.#store =
      options.store ??
      createMemoryStore(typeof history === 'number' ? { limit: history } : { limit: 0, ...history });
    this.#serialize = options.serialize ?? serializeJson;
    this.#deserialize = options.deserialize ?? JSON.parse;
    this.#onError = options.onError ?? defaultOnError;
    this.#maxEventBytes = checkOption.positiveNumber('maxEventBytes', options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES);
    this.#gapEvent = checkGapEventName(options.gapEvent);
    this.#fanOut = new FanOut(checkOption.positiveInteger('writesPerTurn', options.writesPerTurn ?? DEFAULT_WRITES_PER_TURN), { batch: BATCH_WRITES as VisitBatch<Subscriber<E>> });
    this.#unlisten = this.#store.listen(this.#deliver, this.#onStoreGap);
  }

  get size(): number {
    return this.#subscribers.size;
  }

  subscribe(candidate: AnyEventStream, options: SubscribeOptions<E> = {}): () => void {
    // Checked once here, so the delivery loop calls the stream's internals directly.
    const stream = streamInternals(candidate, 'channel');
    if (this.#closed) throw closedChannelError('subscribe');
    if (this.#streams.has(stream)) {
      throw new SseError(
        'ERR_SSE_ALREADY_SUBSCRIBED',
        'this stream is already subscribed to this channel (a second subscription would send it every event twice); call the unsubscribe function subscribe() returned first to subscribe it again with other options',
      );
    }
    if (stream.isClosed) {
      this.#report(options.onReplay, { status: 'none' });
      return noop;
    }
    const subscriber = new Subscriber<E>(stream, options.filter, this.#leave);
    this.#subscribers.add(subscriber);
    this.#targets = undefined;
    this.#streams.add(stream);
    stream[kOnClose](subscriber);
    // Made here for the caller: the channel keeps none of it, so a caller that drops it frees it.
    const unsubscribe = (): void => this.#leave(subscriber);

    const replay = options.replay ?? true;
    const lastEventId = replay === true ? stream.lastEventId : replay === false ? undefined : replay;
    if (lastEventId === undefined) this.#report(options.onReplay, { status: 'none' });
    else this.#replay(subscriber, lastEventId, options.onReplay);
    return unsubscribe;
  }

  broadcast(value: StreamEvent<E> | SendableData, options: BroadcastOptions = {}): Promise<string> {
    if (this.#closed) {
      const refused = Promise.reject(closedChannelError('broadcast'));
      refused.catch(this.#onError);
      return refused;
    }
    const input = this.#toInput(value, options.filter);
    let published: ChannelEvent | Promise<ChannelEvent>;
    try {
      this.#checkSize(input);
      published = this.#store.publish(input);
    } catch (error) {
      published = Promise.reject(error);
    }
    const id = Promise.resolve(published).then((event) => event.id);
    // Handled here so a broadcast nobody awaits cannot crash the process with an unhandled rejection.
    id.catch(this.#onError);
    return id;
  }

  async recent(count: number): Promise<Array<ChannelMessage<E>>> {
    checkOption.positiveInteger('recent() count', count);
    const events = (await this.#store.recent?.(count)) ?? [];
    return events.map((event) => {
      const message = this.#message(event);
      return { id: message.id, event: message.event, data: message.data } as ChannelMessage<E>;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten?.();
    this.#unlisten = undefined;
    for (const subscriber of [...this.#subscribers]) this.#leave(subscriber);
    await this.#store.close?.();
  }

  #toInput(value: StreamEvent<E> | SendableData, filter: BroadcastOptions["filter"]): ChannelEventInput {
    const fields = toEventFields(value);
    if (fields.retry !== undefined) {
      throw new SseFormatError('retry', 'retry cannot be broadcast (it would be replayed); set it per stream with the retry option');
    }
    if (filter !== undefined && this.#store.shared === true) {
      throw new SseError(
        'ERR_SSE_FILTER_NOT_SHAREABLE',
        'broadcast filters are functions of this process and cannot travel through a shared store; filter with subscribe(stream, { filter }) on a field of the event instead',
      );
    }
    const event = fields.event === undefined ? undefined : checkEventName(fields.event as string);
    const id = fields.id === undefined ? undefined : checkId(fields.id as string | number);
    if (id === '') throw new SseFormatError('id', 'a broadcast id cannot be empty (an empty id resets the client\'s last event id)');
    const data = fields.data;
    if (data === undefined && event === undefined) {
      throw new SseFormatError('message', 'a broadcast needs data or an event name');
    }
    return {
      id,
      event: event === '' ? undefined : event,
      data: data === undefined ? '' : dataToText(data, this.#serialize),
      json: data !== undefined && typeof data !== 'string',
      local: { value: data, filter: filter as ((stream: never) => boolean) | undefined },
    };
  }

  /** Refuses, before publishing, an event larger than `maxEventBytes` (the id a store assigns is not counted). */
  #checkSize(input: ChannelEventInput): void {
    const limit = this.#maxEventBytes;
    // A UTF-16 unit is at most 3 UTF-8 bytes and each data line adds 7 ("data: ", LF): most events are far below the bound without counting.
    const worstCase = 10 * input.data.length + 3 * (input.event?.length ?? 0) + (input.id?.length ?? 0) + 32;
    if (worstCase <= limit) return;
    const bytes = utf8Length(formatEvent({ id: input.id, event: input.event, data: input.data }));
    if (bytes > limit) throw eventTooLarge('a broadcast', bytes, limit);
  }

  /** Subscribers that can never get `event` (too large for the channel or for their stream): they missed it. */
  #missed(subscribers: ReadonlyArray<Subscriber<E>>, event: ChannelEvent): void {
    if (this.#gapEvent === false || subscribers.length === 0) return;
    const frame = encodeGapFrame(this.#gapEvent, { reason: 'too-large', lastEventId: event.id });
    for (const subscriber of subscribers) subscriber.stream[kWriteFrame](frame);
  }

  #replay(subscriber: Subscriber<E>, lastEventId: string, onReplay: SubscribeOptions<E>['onReplay']): void {
    this.#setPending(subscriber, []);
    const finish = (events: readonly ChannelEvent[] | null, error?: unknown): void => {
      if (!this.#subscribers.has(subscriber)) {
        this.#setPending(subscriber, null);
        return;
      }
      if (events !== null && error === undefined) {
        this.#writeReplay(subscriber, events, lastEventId, onReplay);
        return;
      }
      const pending = subscriber.pending ?? [];
      this.#setPending(subscriber, null);
      if (error !== undefined) {
        this.#sendGap(subscriber, { reason: 'replay-failed', lastEventId });
        this.#report(onReplay, { status: 'error', lastEventId, error });
      } else {
        this.#sendGap(subscriber, { reason: 'unknown-id', lastEventId });
        this.#report(onReplay, { status: 'unknown', lastEventId });
      }
      // The client was just told of a gap: a second one at once would say nothing new.
      this.#flushHeld(subscriber, pending, lastEventId, undefined, true);
    };
    let result: ReturnType<ChannelStore['since']>;
    try {
      result = this.#store.since(lastEventId);
    } catch (error) {
      finish(null, error ?? new Error('store failed'));
      return;
    }
    if (isPromiseLike(result)) {
      result.then(
        (events) => finish(events),
        (error: unknown) => {
          this.#onError(error);
          finish(null, error ?? new Error('store failed'));
        },
      );
    } else {
      finish(result);
    }
  }

  /**
   * Writes a replay at the client's pace: once the connection is full, the rest waits for it to
   * drain, so a replay larger than the stream's `maxBufferedBytes` is not taken for a slow client
   * (whose resume would ask for the same replay again). Live events wait behind it (see {@link #hold}).
   */
  #writeReplay(subscriber: Subscriber<E>, events: readonly ChannelEvent[], lastEventId: string, onReplay: SubscribeOptions<E>['onReplay']): void {
    const seen = new Set<string>();
    let count = 0;
    let at = 0;
    const run = (): void => {
      while (at < events.length) {
        if (!this.#subscribers.has(subscriber) || subscriber.stream.isClosed) {
          this.#setPending(subscriber, null);
          return;
        }
        if (!subscriber.stream.writable) {
          void subscriber.stream.whenWritable().then(run);
          return;
        }
        const event = events[at++]!;
        seen.add(event.id);
        if (this.#write(subscriber, event)) count++;
      }
      const pending = subscriber.pending ?? [];
      this.#setPending(subscriber, null);
      if (!this.#subscribers.has(subscriber)) return;
      subscriber.stream[kReplayed](count);
      this.#report(onReplay, { status: 'replayed', lastEventId, count });
      this.#flushHeld(subscriber, pending, lastEventId, seen, false);
    };
    run();
  }

  /** Marks a subscriber as replaying (its live events held) or live again. */
  #setPending(subscriber: Subscriber<E>, pending: Array<ChannelEvent | PendingGap> | null): void {
    if ((subscriber.pending === null) !== (pending === null)) {
      this.#replaying += pending === null ? -1 : 1;
      this.#targets = undefined;
    }
    subscriber.pending = pending;
  }

  /**
   * Keeps a live event (or a store's gap) until the subscriber's replay is written. Past
   * {@link MAX_HELD_EVENTS} the client is too slow to catch up: the stream closes as a slow
   * client, and its resume starts from what it did get.
   */
  #hold(subscriber: Subscriber<E>, entry: ChannelEvent | PendingGap): void {
    const pending = subscriber.pending!;
    if (pending.length < MAX_HELD_EVENTS) {
      pending.push(entry);
      return;
    }
    subscriber.pending = [];
    subscriber.stream[kCloseWith]('slow-client');
  }

  /** After the replay: the live events held meanwhile (and the store's gaps), less what the replay already held. */
  #flushHeld(subscriber: Subscriber<E>, pending: ReadonlyArray<ChannelEvent | PendingGap>, lastEventId: string, seen: Set<string> | undefined, toldOfGap: boolean): void {
    // onReplay may have unsubscribed (or closed) the stream: then nothing more goes to it.
    if (!this.#subscribers.has(subscriber)) return;
    // A store whose live path lags behind its history (@sse/redis) can deliver, during the read,
    // events up to the client's own last id: the client already has those.
    const alreadySeen = pending.findIndex((event) => !isGap(event) && event.id === lastEventId);
    for (const event of pending.slice(alreadySeen + 1)) {
      if (isGap(event)) {
        // A replay is contiguous from the client's id to the end of the read: when it holds the
        // first event after the store's gap, this client missed nothing.
        if (toldOfGap || (event.resumeFrom !== undefined && seen?.has(event.resumeFrom) === true)) continue;
        this.#sendGap(subscriber, event.gap);
        toldOfGap = true;
      } else if ((seen === undefined || !seen.has(event.id)) && this.#write(subscriber, event)) {
        toldOfGap = false;
      }
    }
  }

  #report(onReplay: SubscribeOptions<E>['onReplay'], result: ReplayResult): void {
    if (onReplay === undefined) return;
    try {
      onReplay(result);
    } catch (error) {
      this.#onError(error);
    }
  }

  readonly #onStoreGap = (gap: StoreGap): void => {
    this.#signalGap({ reason: gap.reason, lastEventId: gap.after }, gap.resumeFrom);
  };

  /**
   * Tells every current subscriber that it missed events: the gap event goes out before any
   * later event (a subscriber still reading its replay gets it in order, after the replay).
   */
  #signalGap(info: GapInfo, resumeFrom?: string): void {
    if (this.#gapEvent === false) return;
    let frame: Uint8Array | undefined;
    for (const subscriber of this.#subscribers) {
      if (subscriber.pending !== null) this.#hold(subscriber, { gap: info, resumeFrom });
      else subscriber.stream[kWriteFrame]((frame ??= encodeGapFrame(this.#gapEvent, info)));
    }
  }

  #sendGap(subscriber: Subscriber<E>, info: GapInfo): void {
    if (this.#gapEvent === false) return;
    subscriber.stream[kWriteFrame](encodeGapFrame(this.#gapEvent, info));
  }

  readonly #deliver = (event: ChannelEvent): void => {
    if (this.#subscribers.size === 0) return;
    if (!this.#fanOut.fits(this.#subscribers.size)) {
      this.#deliverInSlices(event);
      return;
    }
    const now = Date.now();
    let chunk: Uint8Array | null | undefined;
    let message: ChannelMessage<E> | undefined;
    let missed: Array<Subscriber<E>> | undefined;
    const broadcastFilter = event.local?.filter;
    for (const subscriber of this.#subscribers) {
      if (subscriber.pending !== null) {
        this.#hold(subscriber, event);
        continue;
      }
      // Measured before any filter: an oversized event is never deserialized for one.
      chunk ??= this.#encode(event);
      if (chunk === null) {
        (missed ??= []).push(subscriber);
        continue;
      }
      // The common case, no filter at all, skips the guarded call: this loop runs once per delivery.
      if ((broadcastFilter !== undefined || subscriber.filter !== undefined) && !this.#passes(subscriber, event, (message ??= this.#message(event)))) continue;
      if (!subscriber.stream[kWriteFrame](chunk, now) && !subscriber.stream.isClosed) (missed ??= []).push(subscriber);
    }
    if (missed !== undefined) this.#missedDelivery(missed, event, chunk);
  };

  /**
   * A broadcast to more streams than one turn writes: who is still replaying is decided now (they
   * get it in their replay, as in one go); the writes to the others run in slices, each skipped
   * for a stream that unsubscribed meanwhile.
   */
  #deliverInSlices(event: ChannelEvent): void {
    if (this.#replaying > 0) {
      for (const subscriber of this.#subscribers) if (subscriber.pending !== null) this.#hold(subscriber, event);
    }
    const targets = (this.#targets ??= [...this.#subscribers].filter((subscriber) => subscriber.pending === null));
    const chunk = this.#encode(event);
    if (chunk === null) {
      this.#missedDelivery(targets, event, chunk);
      return;
    }
    const broadcastFilter = event.local?.filter;
    let message: ChannelMessage<E> | undefined;
    let missed: Array<Subscriber<E>> | undefined;
    this.#fanOut.run(
      targets,
      (subscriber) => {
        if (!this.#subscribers.has(subscriber)) return;
        if ((broadcastFilter !== undefined || subscriber.filter !== undefined) && !this.#passes(subscriber, event, (message ??= this.#message(event)))) return;
        if (!subscriber.stream[kWriteFrame](chunk) && !subscriber.stream.isClosed) (missed ??= []).push(subscriber);
      },
      () => {
        if (missed !== undefined) this.#missedDelivery(missed, event, chunk);
      },
    );
  }

  #write(subscriber: Subscriber<E>, event: ChannelEvent): boolean {
    const chunk = this.#encode(event);
    if (chunk !== null && !this.#passes(subscriber, event, this.#message(event))) return false;
    if (chunk !== null && subscriber.stream[kWriteFrame](chunk)) return true;
    if (!subscriber.stream.isClosed) this.#missedDelivery([subscriber], event, chunk);
    return false;
  }

  /** Reports the streams that refused a frame larger than their own `maxEventBytes` (the channel's own limit reported already), and marks their gap. */
  #missedDelivery(subscribers: Array<Subscriber<E>>, event: ChannelEvent, chunk: Uint8Array | null | undefined): void {
    if (chunk != null) {
      this.#onError(
        new SseError(
          'ERR_SSE_EVENT_TOO_LARGE',
          `event ${event.id} (${chunk.byteLength} bytes) is larger than the maxEventBytes of ${subscribers.length} subscribed stream(s); it was not written to them (they missed it). Give those streams a larger maxEventBytes (and maxBufferedBytes), or broadcast smaller events`,
        ),
      );
    }
    this.#missed(subscribers, event);
  }

  #passes(subscriber: Subscriber<E>, event: ChannelEvent, message: ChannelMessage<E>): boolean {
    try {
      const broadcastFilter = event.local?.filter as ((stream: AnyEventStream) => boolean) | undefined;
      if (broadcastFilter !== undefined && !broadcastFilter(subscriber.stream)) return false;
      return subscriber.filter === undefined || subscriber.filter(message);
    } catch (error) {
      this.#onError(error);
      return false;
    }
  }

  #message(event: ChannelEvent): ChannelMessage<E> {
    const deserialize = this.#deserialize;
    let data: unknown;
    let parsed = false;
    return {
      id: event.id,
      event: event.event,
      get data() {
        if (!parsed) {
          parsed = true;
          if (event.local !== undefined) data = event.local.value;
          else data = event.json ? deserialize(event.data) : event.data;
        }
        return data;
      },
    } as ChannelMessage<E>;
  }

  /** The event's frame, encoded once; `null` (reported to `onError` once) when it is larger than `maxEventBytes`. */
  #encode(event: ChannelEvent): Uint8Array | null {
    const cached = this.#chunks.get(event);
    if (cached !== undefined) return cached;
    const limit = this.#maxEventBytes;
    // A frame has at least as many bytes as its data has UTF-16 units: an 8 MB entry is refused without an 8 MB buffer.
    const chunk = event.data.length > limit ? null : encodeFrame(formatEvent(event.event === undefined ? { id: event.id, data: event.data } : { id: event.id, event: event.event, data: event.data }));
    if (chunk === null || chunk.byteLength > limit) {
      this.#chunks.set(event, null);
      const size = chunk === null ? `at least ${event.data.length}` : String(chunk.byteLength);
      this.#onError(
        new SseError(
          'ERR_SSE_EVENT_TOO_LARGE',
          `event ${event.id} from the store is ${size} bytes, larger than maxEventBytes (${limit}); it was delivered to no subscriber (they missed it). Something published it without this limit (another instance with a larger maxEventBytes, or a direct write to the store)`,
        ),
      );
      return null;
    }
    this.#chunks.set(event, chunk);
    return chunk;
  }
}

function noop(): void {}

function closedChannelError(what: 'subscribe' | 'broadcast'): SseError {
  return new SseError(
    'ERR_SSE_CHANNEL_CLOSED',
    `cannot ${what}: this channel was closed (close() removed its subscribers and released its store); create a new channel, or close it only when the server shuts down`,
  );
}

function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}
