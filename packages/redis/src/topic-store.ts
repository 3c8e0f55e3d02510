import { SseError, type TopicEvent, type TopicEventInput, type TopicHistory, type TopicStore } from '@sse/core';
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { CommandTimeout } from './command-timeout.js';
import { SseRedisUnavailableError } from './errors.js';
import { SocketMeter } from './socket-meter.js';
import { topicKeys, type TopicKeys } from './topic-keys.js';
import { TOPIC_BUMP_SCRIPT, TOPIC_PUBLISH_SCRIPT, TOPIC_SINCE_SCRIPT } from './topic-scripts.js';

/** Offsets before a listener's last one whose publish ids it checks after every resubscribe. */
const VERIFY_WINDOW = 32;
/** Live events held per topic while its history is read; past it they are dropped and read again from history. */
const MAX_PENDING = 10_000;
/** Pause before reading a topic's history again after a failure. */
const SYNC_RETRY_MS = 250;
/** How often a Cluster's slot map is read again (a failover moves slots without telling subscribers). */
const SLOTS_REFRESH_MS = 1000;
/**
 * A listener's own history reads may take this many command timeouts: after a reconnect every
 * listened topic is read at once (10,000 topics take a few seconds), and a read given up and
 * sent again would only add to the queue it waits in.
 */
const SYNC_TIMEOUT_FACTOR = 10;
/** Entries one history read takes (a resume's, a listener's catch-up); a longer history is read in several. */
const HISTORY_PAGE = 1000;
/** A max age no entry reaches: the pages after the first of a history read are not filtered by age. */
const NO_AGE_BOUND_MS = 2 ** 50;

/** Options of {@link createRedisTopicStore}: exactly one of `url` and `nodes`. */
export interface RedisTopicStoreOptions {
  /** One Redis: `redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS. */
  url?: string;
  /** The seeds of a Redis Cluster: `'host:port'` or `{ host, port }`. */
  nodes?: ReadonlyArray<string | { host: string; port: number }>;
  /** Extra ioredis options for every connection (TLS, credentials…). Defaults to none. */
  redisOptions?: RedisOptions;
  /** Prefix of every key and channel; no `{` or `}` (they would move the hash tag). Defaults to `'sse:'`. */
  prefix?: string;
  /** Events kept per topic for resume; `0` keeps none. Defaults to `100`. */
  historyLimit?: number;
  /** Events older than this (ms, Redis's clock) are not replayed; a topic's history expires this long after its last publish. Defaults to `300_000`. */
  historyMaxAgeMs?: number;
  /**
   * How much longer than the history a topic's epoch and offset are kept (ms): a client that comes
   * back within it resumes exactly or is told of a `trimmed` gap; after it the topic starts a new
   * epoch and a resume reads as `reset`. Defaults to `historyMaxAgeMs`.
   */
  historyMetaTtlMs?: number;
  /** How long a publish or a history read may take before it fails with `SseRedisUnavailableError` (`reason: 'timeout'`). Defaults to `2000`. */
  commandTimeoutMs?: number;
  /** Told of failures the store recovers from by itself (a history read it retries, a lost subscription). Defaults to `console.error`. */
  onError?: (error: unknown) => void;
}

/** What a {@link RedisTopicStore} holds now. */
export interface RedisTopicStoreStats {
  /** Open Redis connections of this store (commands and subscribers, to masters only; not the short-lived ones ioredis opens to read a Cluster's slots). */
  readonly connections: number;
  /** Bytes read from this store's Redis sockets since it was created. */
  readonly bytesRead: number;
  /** Topics this store listens to. */
  readonly topics: number;
}

/** A {@link TopicStore} shared through Redis or a Redis Cluster; see {@link createRedisTopicStore}. */
export interface RedisTopicStore extends TopicStore {
  publish(topic: string, event: TopicEventInput): Promise<TopicEvent>;
  since(topic: string, offset?: number): Promise<TopicHistory>;
  listen(topic: string, listener: (event: TopicEvent) => void): () => void;
  readonly stats: RedisTopicStoreStats;
  /** Closes every connection; later publishes and reads reject with `ERR_SSE_REDIS_CLOSED`. Idempotent. */
  close(): Promise<void>;
}

type Commands = (Redis | Cluster) & {
  sseTopicPublish(...args: Array<string | number>): Promise<[string, number, string]>;
  sseTopicSince(...args: Array<string | number>): Promise<[string, number, string[]?, Entry[]?, number?]>;
  sseTopicBump(meta: string, old: string, next: string, base: number): Promise<string | null>;
};

type Entry = [id: string, fields: string[]];

/** A live event as it came off a channel, or an entry read from history. */
interface Arrival {
  epoch: string;
  offset: number;
  order: number;
  uid: string;
  event: string | undefined;
  data: string;
}

interface ListenedTopic {
  readonly name: string;
  readonly keys: TopicKeys;
  readonly listeners: Set<(event: TopicEvent) => void>;
  /** The epoch of the last offset delivered; `undefined` until the head was read. */
  epoch: string | undefined;
  /** The last offset delivered (or the head when listening started). */
  offset: number;
  /** Publish ids of the last offsets delivered, to tell a repeat from a reused offset. */
  uids: Map<number, string>;
  /** The subscriber connection it is assigned to (`host:port`), and whether its `SSUBSCRIBE` was answered there. */
  node: string | undefined;
  subscribed: boolean;
  syncing: boolean;
  syncAgain: boolean;
  pending: Arrival[];
  stopped: boolean;
}

interface Subscriber {
  readonly node: string;
  readonly redis: Redis;
  /** Slots with listened topics assigned here. */
  readonly slots: Set<number>;
}

/**
 * Topics for {@link createTopicHub} across instances, on one Redis or a Redis Cluster:
 * `createTopicHub({ store: createRedisTopicStore({ nodes: ['10.0.0.1:7000'] }) })`.
 *
 * Each topic has a meta hash (epoch, offset), a capped stream (its history) and a sharded pub/sub
 * channel, all in one hash slot; one Lua script publishes atomically. An instance subscribes,
 * with `SSUBSCRIBE` on one connection per master (whatever the number of topics), only to the
 * topics its hub listens to. Pub/sub is at-most-once, so each listened topic remembers its last
 * offset and fills any hole (a jump, a reconnect, a failover) from the stream before going on.
 */
export function createRedisTopicStore(options: RedisTopicStoreOptions): RedisTopicStore {
  return new RedisTopicStoreImpl(options);
}

class RedisTopicStoreImpl implements RedisTopicStore {
  readonly #prefix: string;
  readonly #limit: number;
  readonly #maxAgeMs: number;
  readonly #metaTtlMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #url: string | undefined;
  readonly #redisOptions: RedisOptions;
  readonly #commands: Commands;
  readonly #cluster: Cluster | undefined;
  readonly #timeout: CommandTimeout;
  readonly #meter = new SocketMeter();
  readonly #topics = new Map<string, ListenedTopic>();
  readonly #byChannel = new Map<string, ListenedTopic>();
  readonly #bySlot = new Map<number, Set<ListenedTopic>>();
  readonly #subscribers = new Map<string, Subscriber>();
  /** Catch-up reads sent and not answered yet, each with how it is given up. */
  readonly #syncReads = new Set<() => void>();
  /** Keeps the epoch of listened topics alive while nothing is published to them. */
  readonly #touch: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(options: RedisTopicStoreOptions) {
    const { url, nodes, prefix = 'sse:', historyLimit = 100, historyMaxAgeMs = 300_000, commandTimeoutMs = 2000 } = options ?? {};
    const metaTtlMs = options?.historyMetaTtlMs ?? historyMaxAgeMs;
    if ((url === undefined) === (nodes === undefined)) {
      throw new SseError('ERR_SSE_OPTION', `createRedisTopicStore needs exactly one of url (one Redis) and nodes (Cluster seeds), got ${url === undefined ? 'neither' : 'both'}`);
    }
    if (url !== undefined && (typeof url !== 'string' || url === '')) throw new SseError('ERR_SSE_OPTION', `url must be a Redis URL such as redis://127.0.0.1:6379, got ${String(url)}`);
    if (nodes !== undefined && (!Array.isArray(nodes) || nodes.length === 0)) {
      throw new SseError('ERR_SSE_OPTION', `nodes must be a non-empty array of Cluster seeds ('host:port' or { host, port }), got ${String(nodes)}`);
    }
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new SseError('ERR_SSE_OPTION', `prefix must be a string without { or } (they would move the hash tag), got ${String(prefix)}`);
    if (!Number.isSafeInteger(historyLimit) || historyLimit < 0) throw new SseError('ERR_SSE_OPTION', `historyLimit must be a non-negative integer, got ${String(historyLimit)}`);
    for (const [name, value, min] of [
      ['historyMaxAgeMs', historyMaxAgeMs, 1],
      ['historyMetaTtlMs', metaTtlMs, 0],
      ['commandTimeoutMs', commandTimeoutMs, 1],
    ] as const) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
        throw new SseError('ERR_SSE_OPTION', `${name} must be a ${min > 0 ? 'positive' : 'non-negative'} number of milliseconds, got ${String(value)}`);
      }
    }
    this.#prefix = prefix;
    this.#limit = historyLimit;
    this.#maxAgeMs = Math.ceil(historyMaxAgeMs);
    this.#metaTtlMs = Math.ceil(historyMaxAgeMs + metaTtlMs);
    this.#onError = options.onError ?? ((error) => console.error('[@sse/redis] topic store:', error));
    this.#url = url;
    this.#redisOptions = options.redisOptions ?? {};
    this.#timeout = new CommandTimeout(commandTimeoutMs, noop, noop);
    // A command whose fate is unknown after a reconnect is never sent again: a publish sent twice would be two events.
    const safe: RedisOptions = { ...this.#redisOptions, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 1 };
    let commands: Redis | Cluster;
    if (url !== undefined) {
      const redis = new Redis(url, safe);
      this.#meter.add(redis);
      redis.on('close', () => this.#abortSyncReads());
      commands = redis;
    } else {
      const cluster = new Cluster(nodes!.map(seed) as ClusterNode[], {
        redisOptions: safe,
        slotsRefreshInterval: SLOTS_REFRESH_MS,
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
      });
      cluster.on('+node', (redis: Redis) => {
        this.#meter.add(redis);
        keepUnopenedUntilUsed(redis);
      });
      cluster.on('refresh', () => this.#reassign());
      cluster.on('ready', () => this.#reassign());
      this.#cluster = cluster;
      commands = cluster;
    }
    commands.on('error', noop); // reported through the commands that fail
    commands.defineCommand('sseTopicPublish', { numberOfKeys: 2, lua: TOPIC_PUBLISH_SCRIPT });
    commands.defineCommand('sseTopicSince', { numberOfKeys: 2, lua: TOPIC_SINCE_SCRIPT });
    commands.defineCommand('sseTopicBump', { numberOfKeys: 1, lua: TOPIC_BUMP_SCRIPT });
    this.#commands = commands as Commands;
    // A listened topic that stays quiet longer than its meta TTL would start a new epoch on its
    // next publish, and every client would be told of a reset for nothing.
    this.#touch = setInterval(() => {
      for (const topic of this.#topics.values()) this.#commands.pexpire(topic.keys.meta, this.#metaTtlMs).catch(noop);
    }, Math.max(50, Math.floor(this.#metaTtlMs / 3)));
    this.#touch.unref();
  }

  get stats(): RedisTopicStoreStats {
    return { connections: this.#meter.connections, bytesRead: this.#meter.bytesRead, topics: this.#topics.size };
  }

  async publish(topic: string, input: TopicEventInput): Promise<TopicEvent> {
    const keys = topicKeys(this.#prefix, topic);
    const uid = randomId();
    const [epoch, offset, order] = await this.#send(topic, 'publish', () =>
      this.#commands.sseTopicPublish(keys.meta, keys.stream, newEpoch(), this.#metaTtlMs, this.#limit, this.#maxAgeMs, keys.channel, uid, input.event ?? '', input.data),
    );
    return { topic, epoch, offset: Number(offset), order: Number(order), event: input.event, data: input.data };
  }

  async since(topic: string, offset?: number): Promise<TopicHistory> {
    const keys = topicKeys(this.#prefix, topic);
    const [epoch, head, , entries = []] = await this.#send(topic, 'history read', () =>
      this.#commands.sseTopicSince(keys.meta, keys.stream, newEpoch(), this.#metaTtlMs, offset === undefined ? '' : String(offset), this.#maxAgeMs, '', 0, HISTORY_PAGE),
    );
    if (offset === undefined || offset >= head) return { status: 'ok', epoch, offset: head, events: [] };
    const events = entries.map((entry) => toEvent(topic, epoch, decodeEntry(entry, epoch)));
    if (events[0]?.offset !== offset + 1) return { status: 'trimmed', epoch, offset: head };
    // A long history is read a page at a time, each page a short command within the deadline (one
    // read of 100,000 entries would hold Redis and outlast it), up to the head the first page saw:
    // what came later arrives live.
    let last = events.at(-1)!.offset;
    let page = entries.length;
    while (page === HISTORY_PAGE && last < head) {
      const from = last;
      const [now, nowHead, , more = []] = await this.#send(topic, 'history read', () =>
        // No age bound after the first page: an entry after one young enough is not older than it.
        this.#commands.sseTopicSince(keys.meta, keys.stream, newEpoch(), this.#metaTtlMs, String(from), NO_AGE_BOUND_MS, '', 0, HISTORY_PAGE),
      );
      // The history restarted meanwhile: what was read belongs to the old one (the hub reports a reset).
      if (now !== epoch) return { status: 'ok', epoch: now, offset: nowHead, events: [] };
      const first = more[0] === undefined ? undefined : offsetOf(more[0][0]);
      // Trimmed while it was read: never a silent hole.
      if (first !== from + 1) return { status: 'trimmed', epoch, offset: head };
      for (const entry of more) events.push(toEvent(topic, epoch, decodeEntry(entry, epoch)));
      last = events.at(-1)!.offset;
      page = more.length;
    }
    return { status: 'ok', epoch, offset: Math.max(head, last), events };
  }

  listen(name: string, listener: (event: TopicEvent) => void): () => void {
    if (this.#closed) return noop;
    let topic = this.#topics.get(name);
    if (topic === undefined) {
      const keys = topicKeys(this.#prefix, name);
      topic = { name, keys, listeners: new Set(), epoch: undefined, offset: 0, uids: new Map(), node: undefined, subscribed: false, syncing: false, syncAgain: false, pending: [], stopped: false };
      this.#topics.set(name, topic);
      this.#byChannel.set(keys.channel, topic);
      let slot = this.#bySlot.get(keys.slot);
      if (slot === undefined) this.#bySlot.set(keys.slot, (slot = new Set()));
      slot.add(topic);
      // The head is read now, on the command connection, before the hub's own read: the listener
      // then goes on from a point no later than the hub's history, and no event falls between.
      this.#sync(topic);
      this.#assign(topic);
    }
    const listening = topic;
    const registration = (event: TopicEvent): void => listener(event);
    listening.listeners.add(registration);
    return () => {
      if (!listening.listeners.delete(registration) || listening.listeners.size > 0 || this.#topics.get(name) !== listening) return;
      this.#drop(listening);
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#touch);
    for (const topic of this.#topics.values()) topic.stopped = true;
    this.#topics.clear();
    this.#byChannel.clear();
    this.#bySlot.clear();
    const subscribers = [...this.#subscribers.values()];
    this.#subscribers.clear();
    for (const subscriber of subscribers) subscriber.redis.disconnect();
    await this.#timeout.run(() => this.#commands.quit(), { timeoutError: () => new Error('QUIT timed out') }).catch(noop);
    this.#commands.disconnect();
  }

  /** A command with its deadline, its failure as a typed error. */
  async #send<T>(topic: string, what: string, send: () => Promise<T>, timeoutMs = this.#timeout.timeoutMs): Promise<T> {
    if (this.#closed) throw new SseError('ERR_SSE_REDIS_CLOSED', `the Redis topic store was closed; cannot run a ${what} of topic "${topic}"`);
    try {
      return await this.#timeout.run(send, {
        timeoutMs,
        timeoutError: () => new SseRedisUnavailableError(topic, 'timeout', `Redis did not answer a ${what} within ${timeoutMs} ms: frozen, overloaded or unreachable`, { topic: true }),
      });
    } catch (error) {
      if (error instanceof SseError) throw error;
      if ((error as { name?: unknown } | null)?.name === 'ReplyError' && !/^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|LOADING|READONLY|MASTERDOWN)/.test(describe(error))) {
        throw new SseError('ERR_SSE_REDIS', `Redis refused a ${what} of topic "${topic}": ${describe(error)}`, { cause: error });
      }
      // ioredis's own error once a command met more redirections than `maxRedirections`.
      const reason = /^Too many Cluster redirections/.test(describe(error)) ? 'redirected' : 'disconnected';
      throw new SseRedisUnavailableError(topic, reason, `${what}: ${describe(error)}`, { cause: error, topic: true });
    }
  }

  /**
   * A catch-up read, given up when the command connection of one Redis closes: ioredis neither
   * sends again nor rejects a command that was on the wire then (`autoResendUnfulfilledCommands`
   * is off), so it would hold its topic back until its long deadline, every live event waiting
   * behind it. A Cluster's node connections do not reconnect: ioredis rejects what one carried
   * when it closes, and the read is sent again (`topic-store-faults.test.ts`).
   */
  #syncRead<T>(topic: ListenedTopic, send: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const abort = (): void => {
        this.#syncReads.delete(abort);
        reject(new SseRedisUnavailableError(topic.name, 'disconnected', 'history read: the connection closed before Redis answered', { topic: true }));
      };
      this.#syncReads.add(abort);
      this.#send(topic.name, 'history read', send, this.#timeout.timeoutMs * SYNC_TIMEOUT_FACTOR).then(
        (value) => {
          this.#syncReads.delete(abort);
          resolve(value);
        },
        (error: unknown) => {
          this.#syncReads.delete(abort);
          reject(error as Error);
        },
      );
    });
  }

  /** The command connection closed: every catch-up read it may have carried is read again (see {@link #syncRead}). */
  #abortSyncReads(): void {
    for (const abort of [...this.#syncReads]) abort();
  }

  #drop(topic: ListenedTopic): void {
    topic.stopped = true;
    this.#topics.delete(topic.name);
    this.#byChannel.delete(topic.keys.channel);
    const slot = this.#bySlot.get(topic.keys.slot);
    slot?.delete(topic);
    const subscriber = topic.node === undefined ? undefined : this.#subscribers.get(topic.node);
    if (subscriber === undefined) return;
    if (topic.subscribed && subscriber.redis.status === 'ready') subscriber.redis.sunsubscribe(topic.keys.channel).catch(noop);
    if (slot === undefined || slot.size === 0) {
      this.#bySlot.delete(topic.keys.slot);
      subscriber.slots.delete(topic.keys.slot);
      this.#retireIfIdle(subscriber);
    }
  }

  /** The master serving a slot now (`host:port`); `undefined` while a Cluster's map is not known. */
  #nodeFor(slot: number): string | undefined {
    if (this.#cluster === undefined) return 'single';
    return this.#cluster.slots[slot]?.[0];
  }

  /** Puts a topic on the subscriber of its slot's master (subscribing there at once when it is up). */
  #assign(topic: ListenedTopic): void {
    const node = this.#nodeFor(topic.keys.slot);
    if (node === topic.node) return;
    const previous = topic.node === undefined ? undefined : this.#subscribers.get(topic.node);
    if (previous !== undefined) {
      if (topic.subscribed && previous.redis.status === 'ready') previous.redis.sunsubscribe(topic.keys.channel).catch(noop);
      const others = this.#bySlot.get(topic.keys.slot);
      if (others === undefined || [...others].every((other) => other === topic || other.node !== previous.node)) previous.slots.delete(topic.keys.slot);
      this.#retireIfIdle(previous);
    }
    topic.node = node;
    topic.subscribed = false;
    if (node === undefined) return;
    const subscriber = this.#subscriberFor(node);
    subscriber.slots.add(topic.keys.slot);
    if (subscriber.redis.status === 'ready') this.#subscribe(subscriber, [topic]);
  }

  /** After a Cluster's slot map changed: every topic whose slot moved goes to its new master. */
  #reassign(): void {
    if (this.#closed) return;
    for (const topics of this.#bySlot.values()) for (const topic of [...topics]) this.#assign(topic);
  }

  #subscriberFor(node: string): Subscriber {
    let subscriber = this.#subscribers.get(node);
    if (subscriber !== undefined) return subscriber;
    // Subscriptions are restored by the store, not ioredis: it must catch each topic up after them.
    const own: RedisOptions = { ...this.#redisOptions, autoResubscribe: false, autoResendUnfulfilledCommands: false, enableOfflineQueue: false, maxRetriesPerRequest: 0 };
    let redis: Redis;
    if (this.#url !== undefined) redis = new Redis(this.#url, own);
    else {
      const at = node.lastIndexOf(':');
      redis = new Redis({ ...own, host: node.slice(0, at), port: Number(node.slice(at + 1)) });
    }
    subscriber = { node, redis, slots: new Set() };
    const current = subscriber;
    this.#meter.add(redis);
    this.#subscribers.set(node, current);
    redis.on('error', noop); // every failed attempt; what matters is reported by the topics it cuts off
    redis.on('ready', () => {
      if (this.#subscribers.get(node) !== current) return;
      const topics: ListenedTopic[] = [];
      for (const slot of current.slots) for (const topic of this.#bySlot.get(slot) ?? []) if (topic.node === node) topics.push(topic);
      this.#subscribe(current, topics);
    });
    redis.on('close', () => {
      if (this.#subscribers.get(node) !== current) return;
      for (const slot of current.slots) for (const topic of this.#bySlot.get(slot) ?? []) if (topic.node === node) topic.subscribed = false;
      // The node may be gone for good (a failover): read the slot map again instead of waiting for the next refresh.
      this.#cluster?.refreshSlotsCache();
    });
    redis.on('smessage', (channel: string, message: string) => {
      const topic = this.#byChannel.get(channel);
      if (topic === undefined || topic.node !== node || this.#subscribers.get(node) !== current) return;
      const arrival = decodeMessage(message);
      if (arrival === undefined) this.#onError(new SseError('ERR_SSE_REDIS', `a message on ${channel} is not a topic event; is another app publishing there?`));
      else this.#arrive(topic, arrival);
    });
    return current;
  }

  #retireIfIdle(subscriber: Subscriber): void {
    if (subscriber.slots.size > 0 || this.#subscribers.get(subscriber.node) !== subscriber) return;
    this.#subscribers.delete(subscriber.node);
    subscriber.redis.disconnect();
  }

  /** `SSUBSCRIBE`s topics (one command per slot: a Cluster refuses channels of several slots), then catches each up. */
  #subscribe(subscriber: Subscriber, topics: readonly ListenedTopic[]): void {
    const bySlot = new Map<number, ListenedTopic[]>();
    for (const topic of topics) {
      const list = bySlot.get(topic.keys.slot);
      if (list === undefined) bySlot.set(topic.keys.slot, [topic]);
      else list.push(topic);
    }
    for (const list of bySlot.values()) {
      subscriber.redis.ssubscribe(...list.map((topic) => topic.keys.channel)).then(
        () => {
          for (const topic of list) {
            if (topic.stopped || topic.node !== subscriber.node) continue;
            topic.subscribed = true;
            // What was published while this instance was not subscribed is read from history.
            this.#sync(topic);
          }
        },
        (error: unknown) => {
          if (this.#closed || this.#subscribers.get(subscriber.node) !== subscriber) return;
          this.#onError(new SseRedisUnavailableError(list[0]!.name, 'disconnected', `SSUBSCRIBE on ${subscriber.node}: ${describe(error)}`, { cause: error, topic: true }));
          // MOVED: the slot map is stale. Anything else: the connection drops, and `ready` subscribes again.
          if (this.#cluster !== undefined) this.#cluster.refreshSlotsCache();
          else if (subscriber.redis.status === 'ready') setTimeout(() => this.#subscribe(subscriber, list.filter((topic) => !topic.stopped && !topic.subscribed)), SYNC_RETRY_MS).unref();
        },
      );
    }
  }

  /** A live event: delivered when it is the next one; anything else (a hole, a reused offset, another epoch) is settled from history. */
  #arrive(topic: ListenedTopic, arrival: Arrival, afterSync = false): void {
    if (topic.syncing) {
      if (topic.pending.length < MAX_PENDING) topic.pending.push(arrival);
      else topic.syncAgain = true;
      return;
    }
    if (afterSync) {
      // Held while the history was read, which has just been checked against what was delivered:
      // older offsets (or an older epoch) are repeats; a later one is new, even past a hole the
      // history could not fill (the hub reports that jump).
      if (arrival.epoch === topic.epoch && arrival.offset > topic.offset) this.#deliver(topic, arrival);
      return;
    }
    if (arrival.epoch === topic.epoch) {
      if (arrival.offset === topic.offset + 1) {
        this.#deliver(topic, arrival);
        return;
      }
      // A repeat of an event already delivered (read from history, then its message came).
      if (arrival.offset <= topic.offset && topic.uids.get(arrival.offset) === arrival.uid) return;
    }
    topic.pending.push(arrival);
    this.#sync(topic);
  }

  #deliver(topic: ListenedTopic, arrival: Arrival): void {
    topic.offset = arrival.offset;
    topic.uids.set(arrival.offset, arrival.uid);
    topic.uids.delete(arrival.offset - VERIFY_WINDOW);
    const event = toEvent(topic.name, arrival.epoch, arrival);
    for (const listener of topic.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  /** Reads the topic's history from its last offset (again if asked meanwhile), then lets held live events through. */
  #sync(topic: ListenedTopic): void {
    if (topic.syncing) {
      topic.syncAgain = true;
      return;
    }
    topic.syncing = true;
    void this.#runSync(topic);
  }

  async #runSync(topic: ListenedTopic): Promise<void> {
    let failures = 0;
    do {
      topic.syncAgain = false;
      try {
        await this.#syncOnce(topic);
        failures = 0;
      } catch (error) {
        if (topic.stopped) return;
        if (failures++ === 0) this.#onError(error);
        topic.syncAgain = true;
        await new Promise((resolve) => setTimeout(resolve, SYNC_RETRY_MS).unref());
      }
    } while (topic.syncAgain && !topic.stopped);
    topic.syncing = false;
    while (!topic.syncing && !topic.stopped && topic.pending.length > 0) this.#arrive(topic, topic.pending.shift()!, true);
  }

  async #syncOnce(topic: ListenedTopic): Promise<void> {
    const { keys } = topic;
    if (topic.epoch === undefined) {
      const [epoch, head] = await this.#syncRead(topic, () => this.#commands.sseTopicSince(keys.meta, keys.stream, newEpoch(), this.#metaTtlMs, '', this.#maxAgeMs, '', 0));
      if (topic.epoch === undefined) {
        topic.epoch = epoch;
        topic.offset = head;
      }
      return;
    }
    const known = topic.epoch;
    const from = topic.offset;
    const [epoch, head, uids = [], entries = [], start = 0] = await this.#syncRead(topic, () =>
      this.#commands.sseTopicSince(keys.meta, keys.stream, newEpoch(), this.#metaTtlMs, String(from), this.#maxAgeMs, known, VERIFY_WINDOW, HISTORY_PAGE),
    );
    // The history goes on past this page: the rest is read next round (each read a short command,
    // not one that holds Redis).
    if (entries.length > 0 && offsetOf(entries[entries.length - 1]![0]) < head) topic.syncAgain = true;
    if (topic.stopped || topic.epoch !== known || topic.offset !== from) return;
    if (epoch !== known) {
      // A new history (Redis lost its data, the topic expired, another instance started a new
      // epoch): what it holds is delivered under it, and the hub reports a reset.
      // After another instance started a new epoch over reused offsets, its history is read from
      // the last offset not reused (or from here, if this instance was behind that): what this
      // instance already delivered of it is not delivered again.
      const delivered = topic.uids;
      topic.epoch = epoch;
      topic.offset = start;
      topic.uids = new Map();
      for (const entry of entries) {
        const arrival = decodeEntry(entry, epoch);
        if (delivered.get(arrival.offset) === arrival.uid) {
          topic.offset = arrival.offset;
          topic.uids.set(arrival.offset, arrival.uid);
        } else this.#deliver(topic, arrival);
      }
      return;
    }
    // The history must still hold what this instance delivered: a failover that lost acknowledged
    // writes hands their offsets out again, under the same epoch.
    let reusedFrom: number | undefined;
    for (let i = 0; i + 1 < uids.length; i += 2) {
      const offset = offsetOf(uids[i]!);
      const mine = topic.uids.get(offset);
      if (mine !== undefined && mine !== uids[i + 1]) {
        reusedFrom = offset;
        break;
      }
    }
    if (reusedFrom === undefined && head < from) reusedFrom = head + 1;
    if (reusedFrom !== undefined) {
      const now = await this.#send(topic.name, 'epoch change', () => this.#commands.sseTopicBump(keys.meta, known, newEpoch(), reusedFrom - 1));
      if (topic.stopped) return;
      // Under the new epoch the history from the first reused offset is new: it is read and delivered next round.
      topic.epoch = now ?? '';
      topic.offset = now === null ? 0 : reusedFrom - 1;
      topic.uids = new Map();
      topic.syncAgain = true;
      return;
    }
    for (const entry of entries) {
      const arrival = decodeEntry(entry, epoch);
      if (arrival.offset > topic.offset) this.#deliver(topic, arrival);
    }
    // What history no longer holds cannot be delivered: the next event shows the hub the jump.
  }
}

function seed(node: string | { host: string; port: number }): { host: string; port: number } {
  if (typeof node !== 'string') return node;
  const at = node.lastIndexOf(':');
  const port = Number(node.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port)) throw new SseError('ERR_SSE_OPTION', `a Cluster seed must be 'host:port' or { host, port }, got '${node}'`);
  return { host: node.slice(0, at), port };
}

/**
 * Leaves a Cluster node's connection closed until a command is sent on it. ioredis gives each
 * seed a lazy connection taken for a master; when the first slot map names a seed a replica, it
 * tells that connection `READONLY`, which opens it, and it stays open (every command goes to a
 * master) for as long as the replica is in the map: one more connection per replica seed, each
 * time Redis 7 lists the replica in `CLUSTER SLOTS` then (once it replicated a write). A
 * connection not open yet needs no role command: it sends `READONLY` itself when it opens as a
 * replica, and opens read-write otherwise.
 */
function keepUnopenedUntilUsed(redis: Redis): void {
  for (const role of ['readonly', 'readwrite'] as const) {
    const send = redis[role].bind(redis);
    redis[role] = (callback?: (error?: Error | null, result?: 'OK') => void) => {
      if (redis.status !== 'wait') return send(callback);
      callback?.(null, 'OK');
      return Promise.resolve('OK');
    };
  }
}

/** A candidate epoch: used only when the topic has none yet (the first one written wins, so every instance agrees). */
function newEpoch(): string {
  return `${Date.now().toString(36)}${randomId()}`;
}

function randomId(): string {
  return Math.floor(Math.random() * 2 ** 52).toString(36);
}

function offsetOf(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

function decodeEntry([id, fields]: Entry, epoch: string): Arrival {
  return { epoch, offset: offsetOf(id), order: Number(fields[1]), uid: fields[3] ?? '', event: fields[5] === '' ? undefined : fields[5], data: fields[7] ?? 'null' };
}

/** `epoch \n offset \n order \n uid \n event \n data`, as the publish script writes it. */
function decodeMessage(message: string): Arrival | undefined {
  const parts: string[] = [];
  let at = 0;
  for (let i = 0; i < 5; i++) {
    const end = message.indexOf('\n', at);
    if (end < 0) return undefined;
    parts.push(message.slice(at, end));
    at = end + 1;
  }
  const offset = Number(parts[1]);
  const order = Number(parts[2]);
  if (!Number.isSafeInteger(offset) || !Number.isFinite(order) || /[\r\n]/.test(parts[4]!)) return undefined;
  return { epoch: parts[0]!, offset, order, uid: parts[3]!, event: parts[4] === '' ? undefined : parts[4], data: message.slice(at) };
}

function toEvent(topic: string, epoch: string, arrival: Arrival): TopicEvent {
  return { topic, epoch, offset: arrival.offset, order: arrival.order, event: arrival.event, data: arrival.data };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function noop(): void {}
