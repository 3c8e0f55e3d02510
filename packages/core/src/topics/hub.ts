import { checkOption } from '../check-option.js';
import { SseError } from '../errors.js';
import { checkEventName, serializeJson } from '../format.js';
import { kBeginBatch, kCloseWith, kEndBatch, kOffClose, kOnClose, kReplayed, kWriteFrame, streamInternals, type CloseListener, type InternalStream } from '../internal/protocol.js';
import { DEFAULT_WRITES_PER_TURN, FanOut, type VisitBatch } from '../internal/fan-out.js';
import type { AnyEventStream } from '../stream-types.js';
import { epochKey, formatEntry, parsePosition, topicKey, UNKNOWN_EPOCH_KEY, type PositionEntry } from './position.js';
import { createMemoryTopicStore, type MemoryTopicStoreOptions, type TopicHistory, type TopicStore } from './store.js';
import type { TopicEvent, TopicEvents, TopicMap, TopicName, TopicPublishEvent } from './types.js';
import type { GapReason } from '../gap.js';
import { idOnlyFrame, TOPIC_GAP_EVENT, topicEventBody, topicGapFrame, withId } from './wire.js';

/** Topics one stream may hold by default: a position of 32 entries stays under 1024 characters (the default `maxLastEventIdLength`). */
export const DEFAULT_MAX_TOPICS_PER_STREAM = 32;
/** The longest topic name, in UTF-16 code units. */
export const MAX_TOPIC_NAME_LENGTH = 256;
/** Live events held per subscription while its replay is read and written; past it the stream closes as a slow client. */
const MAX_HELD_EVENTS = 10_000;

/** Why a topic of a resuming stream cannot be resumed (the `reason` of its `sse-gap` event). */
export type TopicGapReason = Extract<
  GapReason,
  /** The client's `Last-Event-ID` is not a topic position (or names an offset this topic never had). */
  | 'unknown-id'
  /** The history no longer reaches back to the client's offset (trimmed by count, age or the byte bound). */
  | 'trimmed'
  /** The topic's history restarted (a new epoch: the topic was freed, the store lost its data). */
  | 'reset'
  /** The history could not be read (the store failed). */
  | 'replay-failed'
>;

/** How one topic of a subscription started. */
export type TopicResumeStatus =
  /** Live from now: no position was given, or the position does not hold this topic (the client never had it). */
  | { topic: string; status: 'new' }
  /** `count` missed events were sent, exactly those after the client's offset. */
  | { topic: string; status: 'resumed'; count: number }
  /** The client was sent an `sse-gap` event for this topic, then it went live. */
  | { topic: string; status: 'gap'; reason: TopicGapReason; error?: unknown };

export interface TopicSubscribeOptions {
  /**
   * Resumes from a position: `true` uses the stream's `lastEventId` (on the first subscription
   * of the stream to this hub only: later ones add topics the client did not have), a string
   * resumes from that position, `false` starts live. Defaults to `true`.
   */
  replay?: boolean | string;
  /** Told how each topic started, after the replay and before any live event of these topics is sent. */
  onResume?: (topics: readonly TopicResumeStatus[]) => void;
}

export interface TopicHubOptions extends MemoryTopicStoreOptions {
  /** Where events go and are remembered. Defaults to {@link createMemoryTopicStore} with the history options given here. */
  store?: TopicStore;
  /**
   * Topics one stream may hold; `subscribe` beyond it throws `ERR_SSE_TOO_MANY_TOPICS`. Defaults
   * to `32`. Each topic adds up to 27 characters to every event id: above 37, raise the
   * server's `maxLastEventIdLength` (1024 by default) or clients cannot resume.
   */
  maxTopicsPerStream?: number;
  /**
   * The name of the in-band gap event, `false` for none (`onResume` still reports). Defaults to
   * `'sse-gap'`; its data is `{ "reason", "topics": [...] }`.
   */
  gapEvent?: string | false;
  /** Called with store failures and errors thrown by hooks. Defaults to `console.error`. */
  onError?: (error: unknown) => void;
  /**
   * Streams one publish writes to per turn of the event loop. A topic with more subscribers gets
   * the event in slices, the rest on the next turns, so other requests are served in between;
   * publishes still reach every stream in order.
   * Those queued behind a sliced one wait with at most 1,024 slices of writes; past that, a new
   * one makes the writes it adds at once, so a publisher faster than the machine is held back
   * rather than queued without bound. Publishes queued to the same subscribers are joined: a
   * stream reached for several at once gets their frames in one write to its connection (up to
   * 16 publishes and 16 KiB a write), so a burst the machine cannot write as fast as it comes costs
   * fewer writes, not more latency. Defaults to `512`.
   */
  writesPerTurn?: number;
}

/** Many named topics, many topics per stream, exact resume per topic from one `Last-Event-ID`. */
export interface TopicHub<M extends TopicMap = TopicMap> {
  /**
   * Adds topics to an open stream (those it already has are kept as they are); the stream
   * leaves them all when it closes. Missed events are replayed first (see `replay`). Throws
   * `ERR_SSE_TOO_MANY_TOPICS` or `ERR_SSE_TOPIC` synchronously, with nothing subscribed.
   * Resolves with each topic's status once the topics are live. The replay goes at the client's
   * pace (it waits for a full connection to drain), with live events of these topics held behind
   * it: past 10,000 held for one topic, the stream closes as `'slow-client'`.
   */
  subscribe(stream: AnyEventStream, topics: ReadonlyArray<TopicName<M>>, options?: TopicSubscribeOptions): Promise<TopicResumeStatus[]>;
  /** Removes topics from a stream; the stream stays open. */
  unsubscribe(stream: AnyEventStream, topics: ReadonlyArray<TopicName<M>>): void;
  /** The topics a stream holds, in subscription order (the order of its position). */
  topicsOf(stream: AnyEventStream): string[];
  /**
   * Sends one event to every stream subscribed to `topic` (of every instance sharing the store).
   * Resolves with its place in the topic; rejects (and calls `onError`) when the store fails.
   * Throws `SseFormatError` synchronously on an invalid event name or data.
   */
  publish<T extends TopicName<M>>(topic: T, event: TopicPublishEvent<TopicEvents<M, T>>): Promise<{ epoch: string; offset: number }>;
  /**
   * Checks a topic list taken from a request (for `authorize`, before headers): removes
   * repeats and throws `ERR_SSE_TOPIC` / `ERR_SSE_TOO_MANY_TOPICS` as `subscribe` would.
   */
  checkTopics(topics: readonly string[]): Array<TopicName<M>>;
  /** Topics with at least one stream on this hub. */
  readonly topicCount: number;
  /** Streams with at least one topic on this hub. */
  readonly streamCount: number;
  /** Removes every subscription (streams stay open) and closes the store. */
  close(): Promise<void>;
}

/** Creates a topic hub. */
export function createTopicHub<M extends TopicMap = TopicMap>(options: TopicHubOptions = {}): TopicHub<M> {
  return new TopicHubImpl<M>(options);
}

interface Subscription {
  readonly state: StreamState;
  readonly topic: HubTopic;
  readonly key: string;
  /** `undefined` until the head is known (a failed read): the first live event sets it. */
  epoch: string | undefined;
  epochKey: string;
  offset: number;
  /** This topic's entry of the position, and the offset and epoch key it was made for (rebuilt only when they change). */
  entry: string;
  entryOffset: number;
  entryEpochKey: string;
  /** Where its entry sits in the stream's cached id line (`-1`: not there). */
  lineAt: number;
  /** Live events that arrived while the replay was read. */
  pending: TopicEvent[] | null;
  /**
   * Whether the stream's position holds this topic: from the start when the client's position
   * held it (so an id written while the replay is read keeps it), else once it is live.
   */
  inPosition: boolean;
}

// A class, and the stream's close listener itself: one lives as long as its stream, and a
// closure per stream (with its scope) would cost some 100 bytes more.
class StreamState implements CloseListener {
  /** In subscription order: the order of the position's entries. */
  readonly subscriptions = new Map<string, Subscription>();
  resumed = false;
  /** Whether the client holds the current position (the last id written carries it). */
  current = false;
  /**
   * `id: <position>\n` as bytes, kept between events: an event of one topic rewrites only that
   * topic's entry in place (while its length stays the same). Never handed out: chunks copy it.
   */
  idLine: Uint8Array | undefined = undefined;

  constructor(
    readonly stream: InternalStream,
    /** Drops it from its hub: what its stream's close calls; one per hub. */
    readonly drop: (state: StreamState) => void,
  ) {}

  streamClosed(): void {
    this.drop(this);
  }
}

/** One event on its way to a topic's streams. */
interface Delivery {
  readonly event: TopicEvent;
  readonly body: Uint8Array;
  readonly epochKey: string;
  readonly entry: string;
  /** The chunk of the streams that hold only this topic. */
  shared: Uint8Array | undefined;
}

interface HubTopic {
  readonly name: string;
  readonly key: string;
  /** The last epoch seen and its key (hashed once per epoch, not per event). */
  epoch: string;
  epochKey: string;
  readonly subscriptions: Set<Subscription>;
  /**
   * The subscriptions as an array for sliced fan-outs, made once while they do not change: the
   * publishes queued to one topic then share it, and are joined (see `FanOut`).
   */
  targets: Subscription[] | undefined;
  unlisten: (() => void) | undefined;
}

/** A stream visited for several publishes at once writes their frames to its connection in one write. */
const BATCH_WRITES: VisitBatch<Subscription> = {
  begin: (subscription) => subscription.state.stream[kBeginBatch](),
  end: (subscription) => subscription.state.stream[kEndBatch](),
};

const EMPTY = new Uint8Array(0);

const defaultOnError = (error: unknown): void => {
  console.error('[@sse/core] topic hub error:', error);
};

class TopicHubImpl<M extends TopicMap> implements TopicHub<M> {
  readonly #store: TopicStore;
  readonly #maxTopics: number;
  readonly #gapEvent: string | false;
  readonly #onError: (error: unknown) => void;
  readonly #topics = new Map<string, HubTopic>();
  readonly #streams = new Map<InternalStream, StreamState>();
  readonly #fanOut: FanOut<Subscription>;

  constructor(options: TopicHubOptions) {
    const { store, maxTopicsPerStream, gapEvent, onError, writesPerTurn, ...history } = options;
    this.#fanOut = new FanOut(checkOption.positiveInteger('writesPerTurn', writesPerTurn ?? DEFAULT_WRITES_PER_TURN), { batch: BATCH_WRITES });
    this.#store = store ?? createMemoryTopicStore(history);
    this.#maxTopics = checkOption.positiveInteger('maxTopicsPerStream', maxTopicsPerStream ?? DEFAULT_MAX_TOPICS_PER_STREAM);
    if (gapEvent !== undefined && gapEvent !== false && (gapEvent === '' || gapEvent === 'message')) {
      throw new SseError('ERR_SSE_OPTION', `gapEvent must be an event name other than '' and 'message', or false to send none, got '${gapEvent}'`);
    }
    this.#gapEvent = gapEvent === undefined ? TOPIC_GAP_EVENT : gapEvent === false ? false : checkEventName(gapEvent);
    this.#onError = onError ?? defaultOnError;
  }

  get topicCount(): number {
    return this.#topics.size;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  checkTopics(topics: readonly string[]): Array<TopicName<M>> {
    return this.#check(topics, 0) as Array<TopicName<M>>;
  }

  #check(topics: readonly string[], held: number, has?: (topic: string) => boolean): string[] {
    if (!Array.isArray(topics)) throw new SseError('ERR_SSE_TOPIC', `topics must be an array of topic names, got ${typeof topics}`);
    const unique = new Set<string>();
    for (const topic of topics) {
      if (typeof topic !== 'string' || topic === '' || topic.length > MAX_TOPIC_NAME_LENGTH) {
        throw new SseError('ERR_SSE_TOPIC', `a topic name must be a non-empty string of at most ${MAX_TOPIC_NAME_LENGTH} characters, got ${typeof topic === 'string' ? JSON.stringify(topic.slice(0, 40)) : typeof topic}`);
      }
      if (has === undefined || !has(topic)) unique.add(topic);
    }
    if (held + unique.size > this.#maxTopics) {
      throw new SseError(
        'ERR_SSE_TOO_MANY_TOPICS',
        `a stream may hold at most ${this.#maxTopics} topics (maxTopicsPerStream), this one would hold ${held + unique.size}: the position in every event id holds one entry per topic; split the topics over several streams or raise maxTopicsPerStream (and maxLastEventIdLength)`,
      );
    }
    return [...unique];
  }

  subscribe(candidate: AnyEventStream, topics: ReadonlyArray<TopicName<M>>, options: TopicSubscribeOptions = {}): Promise<TopicResumeStatus[]> {
    const stream = streamInternals(candidate, 'topic hub');
    const existing = this.#streams.get(stream);
    const added = this.#check(topics, existing?.subscriptions.size ?? 0, existing === undefined ? undefined : (topic) => existing.subscriptions.has(topic));
    if (stream.isClosed || added.length === 0) return Promise.resolve(this.#report(options.onResume, []));

    const state = existing ?? this.#track(stream);
    const replay = options.replay ?? true;
    const positionText = replay === false ? undefined : replay === true ? (state.resumed ? undefined : stream.lastEventId) : replay;
    state.resumed = true;
    const position = positionText === undefined ? undefined : (parsePosition(positionText) ?? null);

    const asked = added.map((name) => position?.get(topicKey(name)));
    const subscriptions = added.map((name, index) => {
      const topic = this.#topicOf(name);
      const entry = asked[index];
      const subscription: Subscription = {
        state,
        topic,
        key: topic.key,
        epoch: undefined,
        epochKey: entry?.epochKey ?? UNKNOWN_EPOCH_KEY,
        offset: entry?.offset ?? 0,
        entry: '',
        entryOffset: -1,
        entryEpochKey: '',
        lineAt: -1,
        pending: [],
        inPosition: entry !== undefined,
      };
      state.subscriptions.set(name, subscription);
      topic.subscriptions.add(subscription);
      topic.targets = undefined;
      return subscription;
    });
    state.idLine = undefined;
    // Listening comes before reading, so no event falls between the history and the live path.
    for (const subscription of subscriptions) this.#listen(subscription.topic);
    const reads = subscriptions.map((subscription, index) => {
      try {
        return this.#store.since(subscription.topic.name, asked[index]?.offset);
      } catch (error) {
        return Promise.reject(error as Error);
      }
    });
    const finish = (histories: Array<TopicHistory | { error: unknown }>): TopicResumeStatus[] | Promise<TopicResumeStatus[]> =>
      this.#finish(state, subscriptions, position, asked, histories, options.onResume);
    if (reads.every((read) => !isPromiseLike(read))) return Promise.resolve(finish(reads as TopicHistory[]));
    return Promise.all(
      reads.map((read) =>
        Promise.resolve(read).then(
          (history) => history,
          (error: unknown) => {
            this.#onError(error);
            return { error: error ?? new Error('store failed') };
          },
        ),
      ),
    ).then(finish);
  }

  unsubscribe(candidate: AnyEventStream, topics: ReadonlyArray<TopicName<M>>): void {
    const state = this.#streams.get(candidate as InternalStream);
    if (state === undefined) return;
    for (const name of topics) {
      const subscription = state.subscriptions.get(name);
      if (subscription !== undefined) this.#remove(subscription);
    }
    if (state.subscriptions.size === 0) this.#untrack(state);
    // The client's id would still hold the topics it left: a rejoin would replay what it was not subscribed to.
    else if (!state.stream.isClosed) state.stream[kWriteFrame](idOnlyFrame(this.#position(state)), undefined, true);
  }

  topicsOf(candidate: AnyEventStream): string[] {
    return [...(this.#streams.get(candidate as InternalStream)?.subscriptions.keys() ?? [])];
  }

  publish<T extends TopicName<M>>(topic: T, value: TopicPublishEvent<TopicEvents<M, T>>): Promise<{ epoch: string; offset: number }> {
    this.#check([topic], 0);
    const { event, data } = value as { event?: string; data?: unknown };
    const name = event === undefined || event === 'message' ? undefined : checkEventName(event);
    const text = serializeJson(data === undefined ? null : data);
    let published: TopicEvent | Promise<TopicEvent>;
    try {
      published = this.#store.publish(topic, { event: name, data: text });
    } catch (error) {
      published = Promise.reject(error as Error);
    }
    // A store that answered at once (the memory store) costs one settled promise, no reaction.
    if (typeof (published as Partial<PromiseLike<TopicEvent>>).then !== 'function') {
      const stored = published as TopicEvent;
      return Promise.resolve({ epoch: stored.epoch, offset: stored.offset });
    }
    const place = Promise.resolve(published).then((stored) => ({ epoch: stored.epoch, offset: stored.offset }));
    // Handled here so a publish nobody awaits cannot crash the process with an unhandled rejection.
    place.catch(this.#onError);
    return place;
  }

  async close(): Promise<void> {
    for (const state of [...this.#streams.values()]) {
      for (const subscription of [...state.subscriptions.values()]) this.#remove(subscription);
      this.#untrack(state);
    }
    await this.#store.close?.();
  }

  #track(stream: InternalStream): StreamState {
    const state = new StreamState(stream, this.#drop);
    this.#streams.set(stream, state);
    stream[kOnClose](state);
    return state;
  }

  /** A stream that closed leaves every topic it held. */
  readonly #drop = (state: StreamState): void => {
    for (const subscription of [...state.subscriptions.values()]) this.#remove(subscription);
    this.#untrack(state);
  };

  #untrack(state: StreamState): void {
    if (this.#streams.get(state.stream) !== state) return;
    this.#streams.delete(state.stream);
    state.stream[kOffClose](state);
  }

  #topicOf(name: string): HubTopic {
    let topic = this.#topics.get(name);
    if (topic === undefined) {
      topic = { name, key: topicKey(name), epoch: '', epochKey: '', subscriptions: new Set(), targets: undefined, unlisten: undefined };
      this.#topics.set(name, topic);
    }
    return topic;
  }

  #listen(topic: HubTopic): void {
    if (topic.unlisten !== undefined || this.#topics.get(topic.name) !== topic) return;
    try {
      topic.unlisten = this.#store.listen(topic.name, (event) => this.#deliver(topic, event));
    } catch (error) {
      this.#onError(error);
    }
  }

  #remove(subscription: Subscription): void {
    const { state, topic } = subscription;
    state.idLine = undefined;
    if (state.subscriptions.get(topic.name) === subscription) state.subscriptions.delete(topic.name);
    topic.subscriptions.delete(subscription);
    topic.targets = undefined;
    if (topic.subscriptions.size === 0 && this.#topics.get(topic.name) === topic) {
      this.#topics.delete(topic.name);
      const unlisten = topic.unlisten;
      topic.unlisten = undefined;
      try {
        unlisten?.();
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  #finish(
    state: StreamState,
    subscriptions: Subscription[],
    position: Map<string, PositionEntry> | null | undefined,
    asked: Array<PositionEntry | undefined>,
    histories: Array<TopicHistory | { error: unknown }>,
    onResume: TopicSubscribeOptions['onResume'],
  ): TopicResumeStatus[] | Promise<TopicResumeStatus[]> {
    const statuses: TopicResumeStatus[] = [];
    const gaps = new Map<TopicGapReason, string[]>();
    const replays: Array<{ subscription: Subscription; events: readonly TopicEvent[]; index: number }> = [];
    subscriptions.forEach((subscription, index) => {
      const name = subscription.topic.name;
      const history = histories[index]!;
      const entry = asked[index];
      const gap = (reason: TopicGapReason, error?: unknown): void => {
        statuses.push(error === undefined ? { topic: name, status: 'gap', reason } : { topic: name, status: 'gap', reason, error });
        const list = gaps.get(reason) ?? [];
        list.push(name);
        gaps.set(reason, list);
      };
      subscription.inPosition = true;
      if ('error' in history) {
        // The client's own entry (if any) stays until the first live event: its next resume tries again.
        gap('replay-failed', history.error);
        return;
      }
      subscription.epoch = history.epoch;
      subscription.epochKey = epochKey(history.epoch);
      subscription.offset = history.offset;
      if (position === null) gap('unknown-id');
      else if (entry === undefined) statuses.push({ topic: name, status: 'new' });
      else if (entry.epochKey !== subscription.epochKey) gap('reset');
      else if (entry.offset > history.offset) gap('unknown-id');
      else if (history.status === 'trimmed') gap('trimmed');
      else {
        subscription.offset = entry.offset;
        statuses.push({ topic: name, status: 'resumed', count: history.events.length });
        replays.push({ subscription, events: history.events, index });
      }
    });

    // The position changed (new topics, baselines): the client holds it once an id carries it.
    state.current = false;
    state.idLine = undefined;
    const live = (): boolean => !state.stream.isClosed && this.#streams.get(state.stream) === state;
    if (live() && this.#gapEvent !== false) {
      for (const [reason, topics] of gaps) {
        // The gap carries the position after it, so a client cut right after it does not hear of the same gap twice.
        state.stream[kWriteFrame](topicGapFrame(this.#gapEvent, reason, topics, this.#position(state)));
        state.current = true;
      }
    }
    const replayed = this.#replay(state, interleave(replays), live);
    if (typeof replayed === 'number') return this.#goLive(state, subscriptions, statuses, replayed, live, onResume);
    return replayed.then((count) => this.#goLive(state, subscriptions, statuses, count, live, onResume));
  }

  /**
   * Writes a replay, oldest first. It goes at the client's pace: once the connection is full the
   * rest waits for it to drain, so a replay larger than the stream's `maxBufferedBytes` is not
   * taken for a slow client (which would close the stream, and the client's resume would ask for
   * the same replay again, for ever). Answers at once (the count written) when it never had to
   * wait; live events of these topics are held meanwhile (see {@link #hold}).
   */
  #replay(state: StreamState, events: Generator<{ subscription: Subscription; event: TopicEvent }>, live: () => boolean): number | Promise<number> {
    let count = 0;
    const run = (): number | Promise<number> => {
      for (;;) {
        if (!live()) return count;
        if (!state.stream.writable) {
          return state.stream.whenWritable().then((writable) => (writable ? run() : count));
        }
        const next = events.next();
        if (next.done === true) return count;
        const { subscription, event } = next.value;
        // Left meanwhile (unsubscribe, or the topic was subscribed again): its replay stops there.
        if (state.subscriptions.get(subscription.topic.name) !== subscription) continue;
        if (this.#write(subscription, this.#delivery(subscription.topic, event))) count++;
      }
    };
    return run();
  }

  #goLive(
    state: StreamState,
    subscriptions: Subscription[],
    statuses: TopicResumeStatus[],
    count: number,
    live: () => boolean,
    onResume: TopicSubscribeOptions['onResume'],
  ): TopicResumeStatus[] {
    if (count > 0 && live()) state.stream[kReplayed](count);
    this.#report(onResume, statuses);

    const pending = subscriptions.map((subscription, index) => ({ subscription, events: subscription.pending ?? [], index }));
    for (const subscription of subscriptions) subscription.pending = null;
    for (const { subscription, event } of interleave(pending)) {
      // onResume may have unsubscribed (or closed) the stream: then nothing more goes to it.
      if (!live() || state.subscriptions.get(subscription.topic.name) !== subscription) continue;
      this.#write(subscription, this.#delivery(subscription.topic, event));
    }
    // The client learns its new position even when no event came (a frame with only an id fires
    // no event but sets the last event id): a client cut before the first event still resumes exactly.
    if (live() && !state.current) {
      state.current = true;
      // Not an event for the registry's counters: it is a control frame, like a comment.
      state.stream[kWriteFrame](idOnlyFrame(this.#position(state)), undefined, true);
    }
    return statuses;
  }

  #report(onResume: TopicSubscribeOptions['onResume'], statuses: TopicResumeStatus[]): TopicResumeStatus[] {
    if (onResume !== undefined) {
      try {
        onResume(statuses);
      } catch (error) {
        this.#onError(error);
      }
    }
    return statuses;
  }

  #deliver(topic: HubTopic, event: TopicEvent): void {
    if (topic.subscriptions.size === 0) return;
    let delivery: Delivery | undefined;
    const subscriptions = topic.subscriptions;
    const targets = this.#fanOut.fits(subscriptions.size) ? subscriptions : (topic.targets ??= [...subscriptions]);
    this.#fanOut.run(targets, (subscription) => {
      // A slice on a later turn: the stream may have left the topic meanwhile.
      if (!topic.subscriptions.has(subscription)) return;
      if (subscription.pending !== null) {
        this.#hold(subscription, event);
        return;
      }
      this.#write(subscription, (delivery ??= this.#delivery(topic, event)));
    });
  }

  /**
   * Keeps a live event until the subscription's replay is written. Past {@link MAX_HELD_EVENTS}
   * the client is too slow to catch up with the topic: the stream closes as a slow client, and
   * its resume starts from what it did get.
   */
  #hold(subscription: Subscription, event: TopicEvent): void {
    const pending = subscription.pending!;
    if (pending.length < MAX_HELD_EVENTS) {
      pending.push(event);
      return;
    }
    subscription.pending = [];
    subscription.state.stream[kCloseWith]('slow-client');
  }

  /** What every stream shares of one event: its bytes without the id, its entry of a position. */
  #delivery(topic: HubTopic, event: TopicEvent): Delivery {
    if (topic.epoch !== event.epoch) {
      topic.epoch = event.epoch;
      topic.epochKey = epochKey(event.epoch);
    }
    return { event, body: topicEventBody(event), epochKey: topic.epochKey, entry: formatEntry(topic.key, topic.epochKey, event.offset), shared: undefined };
  }

  /** Writes one event to one stream, keeping the stream's position exact: repeats are skipped, missed events announced. */
  #write(subscription: Subscription, delivery: Delivery): boolean {
    const { event } = delivery;
    if (subscription.epoch === undefined) {
      // The head could not be read: this event starts the subscription's history.
      subscription.epoch = event.epoch;
      subscription.epochKey = delivery.epochKey;
    } else if (event.epoch !== subscription.epoch) {
      subscription.epoch = event.epoch;
      subscription.epochKey = delivery.epochKey;
      subscription.offset = event.offset - 1;
      this.#liveGap(subscription, 'reset');
    } else if (event.offset <= subscription.offset) {
      return false;
    } else if (event.offset > subscription.offset + 1) {
      subscription.offset = event.offset - 1;
      this.#liveGap(subscription, 'trimmed');
    }
    subscription.offset = event.offset;
    subscription.entry = delivery.entry;
    subscription.entryOffset = event.offset;
    subscription.entryEpochKey = delivery.epochKey;
    const state = subscription.state;
    state.current = true;
    if (state.subscriptions.size === 1) {
      // Every one-topic stream of this topic has the same position: they share one chunk.
      return state.stream[kWriteFrame]((delivery.shared ??= withId([delivery.entry], delivery.body)));
    }
    const line = this.#idLine(state, subscription, delivery.entry);
    const chunk = new Uint8Array(line.byteLength + delivery.body.byteLength);
    chunk.set(line, 0);
    chunk.set(delivery.body, line.byteLength);
    return state.stream[kWriteFrame](chunk);
  }

  /** The stream's id line after `subscription` moved to `entry`: rewritten in place when it can be, rebuilt when not. */
  #idLine(state: StreamState, subscription: Subscription, entry: string): Uint8Array {
    const line = state.idLine;
    if (line !== undefined && subscription.lineAt >= 0) {
      const at = subscription.lineAt;
      const end = at + entry.length;
      // Same length: the byte after the entry is still its separator or the line feed.
      if (end < line.byteLength && (line[end] === 0x5f || line[end] === 0x0a) && this.#sameLength(line, at, end)) {
        for (let i = 0; i < entry.length; i++) line[at + i] = entry.charCodeAt(i);
        return line;
      }
    }
    const entries = this.#entries(state);
    const rebuilt = withId(entries, EMPTY);
    let at = 4; // after 'id: '
    let index = 0;
    for (const other of state.subscriptions.values()) {
      if (!other.inPosition) {
        other.lineAt = -1;
        continue;
      }
      other.lineAt = at;
      at += entries[index++]!.length + 1;
    }
    state.idLine = rebuilt;
    return rebuilt;
  }

  /** Whether the entry at `at` in the line ends right at `end` (so a new entry of that length fits). */
  #sameLength(line: Uint8Array, at: number, end: number): boolean {
    for (let i = at; i < end; i++) if (line[i] === 0x5f || line[i] === 0x0a) return false;
    return true;
  }

  #liveGap(subscription: Subscription, reason: TopicGapReason): void {
    if (this.#gapEvent === false) return;
    const state = subscription.state;
    state.stream[kWriteFrame](topicGapFrame(this.#gapEvent, reason, [subscription.topic.name], this.#position(state)));
    state.current = true;
  }

  /** The entries of the stream's position, in subscription order. */
  #entries(state: StreamState): string[] {
    const entries: string[] = [];
    for (const subscription of state.subscriptions.values()) {
      if (!subscription.inPosition) continue;
      if (subscription.entryOffset !== subscription.offset || subscription.entryEpochKey !== subscription.epochKey) {
        subscription.entry = formatEntry(subscription.key, subscription.epochKey, subscription.offset);
        subscription.entryOffset = subscription.offset;
        subscription.entryEpochKey = subscription.epochKey;
      }
      entries.push(subscription.entry);
    }
    return entries;
  }

  #position(state: StreamState): string {
    return this.#entries(state).join('_');
  }
}

/** Events of several topics in the order they were published (by `order`; ties by topic index), each topic's own order kept. */
function* interleave(
  lists: Array<{ subscription: Subscription; events: readonly TopicEvent[]; index: number }>,
): Generator<{ subscription: Subscription; event: TopicEvent }> {
  const cursors = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const event = lists[i]!.events[cursors[i]!];
      if (event === undefined) continue;
      if (best === -1 || event.order < lists[best]!.events[cursors[best]!]!.order) best = i;
    }
    if (best === -1) return;
    const list = lists[best]!;
    yield { subscription: list.subscription, event: list.events[cursors[best]!++]! };
  }
}

function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}
