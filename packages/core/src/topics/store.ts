import { checkOption } from '../check-option.js';
import { Queue } from '../queue.js';
import { unrefTimer } from '../timers.js';
import type { TopicEvent, TopicEventInput } from './types.js';
import { StoredTopicEvent, topicEventBody } from './wire.js';

/** Where a topic is now: its epoch and the offset of its last event (`0`: none). */
export interface TopicHead {
  epoch: string;
  offset: number;
}

/** What {@link TopicStore.since} found. */
export type TopicHistory =
  /** `events` are every event after the offset asked for, oldest first (none when no offset was given). */
  | (TopicHead & { status: 'ok'; events: readonly TopicEvent[] })
  /** The history no longer reaches back to the offset asked for (trimmed by count, age or memory). */
  | (TopicHead & { status: 'trimmed' });

/**
 * Where a hub's topic events go and are remembered: {@link createMemoryTopicStore} in one
 * process; a shared store (e.g. sharded Redis pub/sub plus one stream per topic) across
 * instances. Every method may answer synchronously or with a promise.
 *
 * Contract: `publish` records the event before any listener sees it; a listener of a topic gets
 * each of its events once, in offset order. With that, `since` plus live events is gap-free (the
 * hub drops the overlap by offset).
 */
export interface TopicStore {
  /** Records an event, assigning epoch, offset and order, and delivers it to the topic's listeners. */
  publish(topic: string, event: TopicEventInput): TopicEvent | Promise<TopicEvent>;
  /**
   * The topic's head and the events after `offset` in the current epoch. Without `offset`, only
   * the head. An unknown topic has a fresh epoch and offset `0`.
   */
  since(topic: string, offset?: number): TopicHistory | Promise<TopicHistory>;
  /**
   * Delivers the topic's events to `listener` until the returned function is called. A hub
   * listens once per topic its streams use, so a shared store subscribes an instance only to
   * those (and counts listeners per topic to unsubscribe after the last).
   */
  listen(topic: string, listener: (event: TopicEvent) => void): () => void;
  /** Releases connections and timers. */
  close?(): void | Promise<void>;
}

/** The in-memory topic store, with what tests and metrics read of it. */
export interface MemoryTopicStore extends TopicStore {
  /** Topics held: those listened to or with history left. */
  readonly size: number;
  /** Encoded bytes of the history of every topic (what `maxHistoryBytes` bounds). */
  readonly historyBytes: number;
}

export interface MemoryTopicStoreOptions {
  /** Events kept per topic for resume; `0` keeps none. Defaults to `100`. */
  historyLimit?: number;
  /** Events older than this (ms) are dropped from history. Defaults to `300_000` (5 minutes). */
  historyMaxAgeMs?: number;
  /**
   * Bound on the encoded bytes of all topics' history together; past it the oldest events of
   * any topic are dropped (resumers of that topic get a gap). Defaults to `33_554_432` (32 MiB).
   */
  maxHistoryBytes?: number;
  /**
   * How long a topic's epoch and offset are kept once nobody listens to it and its history is
   * gone (Centrifugo's `history_meta_ttl`): a client that comes back within it resumes exactly
   * (nothing was published, or the gap is reported as `trimmed`); after it, the topic is freed
   * and a resume reads as `reset`. Defaults to `historyMaxAgeMs`.
   */
  historyMetaTtlMs?: number;
  /**
   * Most unused topics kept for `historyMetaTtlMs` at once. Past it the longest-unused one is
   * freed early (a client resuming it then gets a `reset` gap, never a silent one), so clients
   * that churn through topic names cannot grow the store without bound. Defaults to `100_000`.
   */
  maxIdleTopics?: number;
}

export const DEFAULT_TOPIC_HISTORY_LIMIT = 100;
export const DEFAULT_MAX_IDLE_TOPICS = 100_000;
export const DEFAULT_TOPIC_HISTORY_MAX_AGE_MS = 300_000;
export const DEFAULT_MAX_TOPIC_HISTORY_BYTES = 32 * 1024 * 1024;

interface StoredTopic {
  readonly name: string;
  readonly epoch: string;
  offset: number;
  /** The first offset history still holds is `trimmedTo + 1`. */
  trimmedTo: number;
  readonly entries: Queue<Entry>;
  listeners: Set<(event: TopicEvent) => void> | undefined;
  /** When it became unused (no listener, no history); it is freed `historyMetaTtlMs` later. */
  idleAt: number | undefined;
}

interface Entry {
  readonly event: TopicEvent;
  readonly topic: StoredTopic;
  readonly at: number;
  readonly bytes: number;
  /** Dropped from its topic by the count bound; the global queue skips it. */
  dropped: boolean;
}

/**
 * The in-memory topic store. A topic exists while it is listened to or has history; once
 * neither, it is freed (its next use starts a new epoch). One unref'd timer at most, armed
 * only while some history can expire.
 */
export function createMemoryTopicStore(options: MemoryTopicStoreOptions = {}): MemoryTopicStore {
  const limit = checkOption.nonNegativeInteger('historyLimit', options.historyLimit ?? DEFAULT_TOPIC_HISTORY_LIMIT);
  const maxAgeMs = checkOption.positiveMilliseconds('historyMaxAgeMs', options.historyMaxAgeMs ?? DEFAULT_TOPIC_HISTORY_MAX_AGE_MS);
  const metaTtlMs = checkOption.milliseconds('historyMetaTtlMs', options.historyMetaTtlMs ?? maxAgeMs);
  const maxBytes = checkOption.nonNegativeNumber('maxHistoryBytes', options.maxHistoryBytes ?? DEFAULT_MAX_TOPIC_HISTORY_BYTES);
  const maxIdle = checkOption.nonNegativeInteger('maxIdleTopics', options.maxIdleTopics ?? DEFAULT_MAX_IDLE_TOPICS);
  // Epochs differ per process and per creation of a topic, so an offset from before a restart or a free reads as a reset.
  const instance = `${Date.now().toString(36)}${Math.floor(Math.random() * 46656).toString(36)}`;
  let generation = 0;
  let order = 0;
  const topics = new Map<string, StoredTopic>();
  // Every live entry, oldest first, across topics: age and the byte bound evict from its head.
  let all = new Queue<Entry>();
  let droppedInAll = 0;
  let bytes = 0;
  // Topics that became unused, oldest first; a topic used again meanwhile is skipped (its idleAt changed).
  let idle = new Queue<{ topic: StoredTopic; at: number }>();
  // Topics whose idleAt is set now (the queue may also hold stale entries of topics used again).
  let idleCount = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = 0;

  const topicOf = (name: string): StoredTopic => {
    let topic = topics.get(name);
    if (topic === undefined) {
      topic = { name, epoch: `${instance}.${(generation++).toString(36)}`, offset: 0, trimmedTo: 0, entries: new Queue(), listeners: undefined, idleAt: undefined };
      topics.set(name, topic);
    }
    if (topic.idleAt !== undefined) idleCount--;
    topic.idleAt = undefined;
    return topic;
  };

  const markIfUnused = (topic: StoredTopic, now: number): void => {
    if (topic.entries.length > 0 || topic.listeners !== undefined || topic.idleAt !== undefined || topics.get(topic.name) !== topic) return;
    topic.idleAt = now;
    idle.push({ topic, at: now });
    idleCount++;
    // Past the bound, the longest-unused topics go now instead of after historyMetaTtlMs.
    while (idleCount > maxIdle) {
      const head = idle.shift();
      if (head === undefined) break;
      if (head.topic.idleAt === head.at && topics.get(head.topic.name) === head.topic) {
        topics.delete(head.topic.name);
        idleCount--;
      }
    }
  };

  const compact = (): void => {
    // Entries dropped by the count bound stay in `all` until they reach its head; rebuild before they outnumber the live ones.
    if (droppedInAll < 1024 || droppedInAll * 2 < all.length) return;
    const live = new Queue<Entry>();
    for (const entry of all.slice()) if (!entry.dropped) live.push(entry);
    all = live;
    droppedInAll = 0;
  };

  const trim = (now: number): void => {
    for (;;) {
      const head = all.at(0);
      if (head === undefined) break;
      if (head.dropped) {
        all.shift();
        droppedInAll--;
        continue;
      }
      if (now - head.at <= maxAgeMs && bytes <= maxBytes) break;
      all.shift();
      // The oldest live entry of all is the oldest of its topic too.
      head.topic.entries.shift();
      head.topic.trimmedTo = head.event.offset;
      bytes -= head.bytes;
      markIfUnused(head.topic, now);
    }
    for (;;) {
      const head = idle.at(0);
      if (head === undefined || (head.topic.idleAt === head.at && now - head.at < metaTtlMs)) break;
      idle.shift();
      if (head.topic.idleAt === head.at && topics.get(head.topic.name) === head.topic) {
        topics.delete(head.topic.name);
        idleCount--;
      }
    }
    arm(now);
  };

  const arm = (now: number): void => {
    const oldest = all.at(0);
    const unused = idle.at(0);
    if (oldest === undefined && unused === undefined) {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      return;
    }
    const due = Math.min(oldest === undefined ? Infinity : oldest.at + maxAgeMs + 1, unused === undefined ? Infinity : unused.at + metaTtlMs);
    if (timer !== undefined && timerAt <= due) return;
    if (timer !== undefined) clearTimeout(timer);
    timerAt = due;
    timer = setTimeout(() => {
      timer = undefined;
      trim(Date.now());
    }, Math.max(0, due - now));
    unrefTimer(timer);
  };

  return {
    get size() {
      return topics.size;
    },
    get historyBytes() {
      return bytes;
    },
    publish(name, input) {
      const topic = topicOf(name);
      const now = Date.now();
      const event: TopicEvent = new StoredTopicEvent(name, topic.epoch, ++topic.offset, ++order, input.event, input.data);
      if (limit > 0) {
        const entry: Entry = { event, topic, at: now, bytes: topicEventBody(event).byteLength, dropped: false };
        topic.entries.push(entry);
        all.push(entry);
        bytes += entry.bytes;
        while (topic.entries.length > limit) {
          const old = topic.entries.shift()!;
          old.dropped = true;
          droppedInAll++;
          bytes -= old.bytes;
          topic.trimmedTo = old.event.offset;
        }
        compact();
        trim(now);
      } else {
        topic.trimmedTo = topic.offset;
      }
      if (topic.listeners !== undefined) for (const listener of topic.listeners) listener(event);
      markIfUnused(topic, now);
      arm(now);
      return event;
    },
    since(name, offset) {
      trim(Date.now());
      const topic = topics.get(name);
      // Not kept for a read: an unknown topic reads as empty under an epoch nobody holds.
      if (topic === undefined) return { status: 'ok', epoch: `${instance}.${(generation++).toString(36)}`, offset: 0, events: [] };
      const head = { epoch: topic.epoch, offset: topic.offset };
      if (offset === undefined) return { status: 'ok', ...head, events: [] };
      if (offset < topic.trimmedTo) return { status: 'trimmed', ...head };
      return { status: 'ok', ...head, events: topic.entries.slice(offset - topic.trimmedTo).map((entry) => entry.event) };
    },
    listen(name, listener) {
      const topic = topicOf(name);
      (topic.listeners ??= new Set()).add(listener);
      return () => {
        if (topic.listeners === undefined || !topic.listeners.delete(listener)) return;
        if (topic.listeners.size === 0) topic.listeners = undefined;
        const now = Date.now();
        markIfUnused(topic, now);
        arm(now);
      };
    },
    close() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      topics.clear();
      all = new Queue();
      idle = new Queue();
      droppedInAll = 0;
      bytes = 0;
    },
  };
}
