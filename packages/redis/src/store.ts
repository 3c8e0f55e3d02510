import { SseError, type ChannelEvent, type ChannelEventInput, type ChannelStore, type GapListener, type StoreGap } from '@sse/core';
import { Redis, type RedisOptions } from 'ioredis';
import { CommandTimeout } from './command-timeout.js';
import { SseRedisUnavailableError } from './errors.js';
import { LATE_REPLY, measureClock, PREVIOUS_FIELD, PUBLISH_SCRIPT, redisDeadline, type RedisClock } from './publish-script.js';
import { compareStreamIds, parseStreamId } from './stream-id.js';

/** Entries read per `XREAD`: a burst is delivered in batches of this size. */
const READ_BATCH = 1000;
/**
 * How long one `XREAD` blocks; the loop then re-checks that it should still run, and that the
 * stream was not reset behind its back (one `XINFO STREAM` per idle period).
 */
const READ_BLOCK_MS = 5000;
/** Pause before retrying a read that Redis refused (e.g. the key holds another type). */
const READ_RETRY_MS = 1000;
/** How often the publisher measures Redis's clock again (drift, clock steps on either side). */
const CLOCK_REFRESH_MS = 30_000;

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /**
   * Key of the Redis Stream that carries the channel's events and keeps its history: one stream
   * per channel, the same on every instance. Required.
   */
  stream: string;
  /**
   * Where Redis is: `redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS.
   * Defaults to `redis://127.0.0.1:6379`.
   */
  url?: string | undefined;
  /**
   * How many events the stream keeps for replay, at least. Redis trims in whole internal nodes
   * (`XADD … MAXLEN ~`), so up to about 100 more may stay. Defaults to `1000`.
   */
  maxLen?: number;
  /**
   * Events older than this (ms, measured with this process's clock against the stream ids'
   * timestamps) are not replayed, and are trimmed on the next publish. Defaults to no age limit.
   */
  maxAgeMs?: number;
  /**
   * How long `publish` and `since` wait for Redis when it is not connected (at startup, during an
   * outage) before failing with {@link SseRedisUnavailableError}; also how long a replay waits for
   * this instance's reader to catch up. `0` fails at once. Defaults to `1000`.
   */
  offlineTimeoutMs?: number;
  /**
   * How long every Redis command may take before it fails with {@link SseRedisUnavailableError}
   * (`reason: 'timeout'`) and the store reports `down`: a frozen or overloaded Redis keeps its
   * connections open, so only a deadline notices it. A broadcast that reaches Redis after its
   * deadline is refused there, so it is never delivered late. While a command is overdue, new
   * broadcasts and replays fail at once instead of queueing behind it. The reader's blocking
   * `XREAD` gets this on top of its 5 s block. Defaults to `2000`.
   */
  commandTimeoutMs?: number;
  /**
   * How many broadcasts may wait for Redis at once (connecting, or sent and not yet answered);
   * past it `publish` rejects at once with {@link SseRedisUnavailableError} (`reason: 'overloaded'`).
   * Bounds the memory a slow Redis can make this process hold. Defaults to `1000`.
   */
  maxPendingPublishes?: number;
  /**
   * Extra ioredis options for both connections (TLS, credentials, `connectionName`, `family`…).
   * The store sets `enableOfflineQueue: false`, `autoResendUnfulfilledCommands: false`,
   * `maxRetriesPerRequest: 0`, `lazyConnect: false` and `commandTimeout` (see
   * `commandTimeoutMs`) itself: commands fail fast instead of piling up during an outage or being
   * sent twice after it. Defaults to none.
   */
  redisOptions?: RedisOptions;
  /**
   * Told when Redis becomes unreachable, stops answering (a command passed `commandTimeoutMs`)
   * or the stream becomes unreadable, and when it is usable again; called once per change.
   * Defaults to a `console.warn` at the start and end of each outage.
   */
  onStatus?: (status: RedisStoreStatus) => void;
}

/** What {@link RedisStoreOptions.onStatus} is told. */
export type RedisStoreStatus =
  /** Both connections are ready and Redis answers: broadcasts flow and history can be read. */
  | { state: 'up' }
  /**
   * Redis cannot be reached, has stopped answering (an {@link SseRedisUnavailableError} with
   * `reason: 'timeout'`), or the stream cannot be read; `error` says why. Local streams stay open.
   */
  | { state: 'down'; error: unknown };

/** A {@link ChannelStore} shared through Redis; see {@link createRedisStore}. */
export interface RedisStore extends ChannelStore {
  readonly shared: true;
  /** The Redis Stream key it uses. */
  readonly stream: string;
  /** Appends the event; resolves with it, its `id` being the stream id. */
  publish(event: ChannelEventInput): Promise<ChannelEvent>;
  /**
   * Delivers every event appended from now on, once, in stream order. `onGap` is told, once per
   * gap and before the first event after it, when this instance's reader missed events it can no
   * longer deliver (trimmed before it read them, or the stream was reset): see {@link StoreGap}.
   * Returns the function that stops it.
   */
  listen(listener: (event: ChannelEvent) => void, onGap?: GapListener): () => void;
  /**
   * The newest `count` events the stream keeps, oldest first: what a first connection's snapshot
   * shows. Subscribe with `replay: <the last one's id>` afterwards, and what was broadcast in
   * between follows with no gap and no duplicate.
   */
  recent(count: number): Promise<ChannelEvent[]>;
  /** Closes both Redis connections; later publishes reject. Idempotent. */
  close(): Promise<void>;
}

interface Tail {
  redis: Redis;
  timeout: CommandTimeout;
  /**
   * Id of the last entry this instance read (or the point it started from); `undefined` until
   * the start is known.
   */
  position: string | undefined;
  /**
   * `position` is an entry read from the stream, not a starting point (the moment the channel
   * listened, or `0-0` after a reset): only then can a gap or a reset be told apart from a start.
   */
  onEntry: boolean;
  /** Check that the stream was not reset before the next read: after a reconnect or an idle read. */
  checkDue: boolean;
  /** Id of the last event this reader delivered. */
  lastDelivered: string | undefined;
  /** `performance.now()` when the channel started listening. */
  listenedAt: number;
  /** Redis answered the last read with an error (not a lost connection). */
  failing: boolean;
  stopped: boolean;
}

interface Registration {
  listener: (event: ChannelEvent) => void;
  onGap: GapListener | undefined;
}

type Entry = [id: string, fields: string[]];

/** The publish script, as ioredis's `defineCommand` adds it to the command connection. */
type PublishingRedis = Redis & {
  ssePublish(stream: string, deadline: number, maxLen: number, ...fields: string[]): Promise<string | null>;
};

/**
 * A channel store on one Redis Stream, shared by every server instance:
 * `createChannel({ store: createRedisStore({ url, stream: 'chat' }) })`.
 *
 * `publish` appends to the stream (trimmed by `maxLen` and `maxAgeMs`); each instance tails the
 * stream with `XREAD BLOCK` on a connection of its own and delivers every entry once, in stream
 * order, to its local subscribers. Event ids are the stream ids, so a client can replay from its
 * `Last-Event-ID` on any instance. After an outage the reader resumes from the last entry it
 * delivered, so nothing that Redis kept is lost; what Redis did not keep is reported as a gap.
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStreamStore(options);
}

class RedisStreamStore implements RedisStore {
  readonly shared = true;
  readonly stream: string;
  readonly #url: string;
  readonly #maxLen: number;
  readonly #maxAgeMs: number | undefined;
  readonly #offlineTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  readonly #maxPendingPublishes: number;
  readonly #redisOptions: RedisOptions;
  readonly #onStatus: (status: RedisStoreStatus) => void;
  readonly #command: PublishingRedis;
  readonly #commandTimeout: CommandTimeout;
  readonly #listeners = new Set<Registration>();
  /** Re-evaluated whenever a connection or the reader's position changes. */
  readonly #checks = new Set<() => void>();
  #tail: Tail | undefined;
  #state: RedisStoreStatus['state'] | undefined;
  #lastError: unknown;
  #pendingPublishes = 0;
  #clock: RedisClock | undefined;
  #clockProbe: Promise<RedisClock> | undefined;
  #closed = false;

  constructor(options: RedisStoreOptions) {
    const {
      stream,
      url = 'redis://127.0.0.1:6379',
      maxLen = 1000,
      maxAgeMs,
      offlineTimeoutMs = 1000,
      commandTimeoutMs = 2000,
      maxPendingPublishes = 1000,
    } = options ?? {};
    if (typeof stream !== 'string' || stream === '') {
      throw new SseError('ERR_SSE_OPTION', `createRedisStore needs the key of its Redis Stream: { stream: 'chat' }, got ${String(stream)}`);
    }
    if (typeof url !== 'string' || url === '') throw new SseError('ERR_SSE_OPTION', `url must be a Redis URL such as redis://127.0.0.1:6379, got ${String(url)}`);
    if (!Number.isSafeInteger(maxLen) || maxLen < 1) {
      throw new SseError('ERR_SSE_OPTION', `maxLen must be a positive integer (the stream also carries live events), got ${String(maxLen)}`);
    }
    if (maxAgeMs !== undefined && !(maxAgeMs > 0 && Number.isFinite(maxAgeMs))) {
      throw new SseError('ERR_SSE_OPTION', `maxAgeMs must be a positive number of milliseconds, got ${String(maxAgeMs)}`);
    }
    if (!(offlineTimeoutMs >= 0 && Number.isFinite(offlineTimeoutMs))) {
      throw new SseError('ERR_SSE_OPTION', `offlineTimeoutMs must be a non-negative number of milliseconds, got ${String(offlineTimeoutMs)}`);
    }
    if (!(commandTimeoutMs > 0 && Number.isFinite(commandTimeoutMs))) {
      throw new SseError('ERR_SSE_OPTION', `commandTimeoutMs must be a positive number of milliseconds (every command needs a deadline), got ${String(commandTimeoutMs)}`);
    }
    if (!Number.isSafeInteger(maxPendingPublishes) || maxPendingPublishes < 1) {
      throw new SseError('ERR_SSE_OPTION', `maxPendingPublishes must be a positive integer, got ${String(maxPendingPublishes)}`);
    }
    this.stream = stream;
    this.#url = url;
    this.#maxLen = maxLen;
    this.#maxAgeMs = maxAgeMs;
    this.#offlineTimeoutMs = offlineTimeoutMs;
    this.#commandTimeoutMs = commandTimeoutMs;
    this.#maxPendingPublishes = maxPendingPublishes;
    this.#redisOptions = options.redisOptions ?? {};
    this.#onStatus = options.onStatus ?? logStatus(stream);
    this.#commandTimeout = new CommandTimeout(
      commandTimeoutMs,
      (error) => this.#updateStatus(error),
      () => {
        this.#updateStatus();
        this.#notify();
      },
    );
    const command = this.#connect(
      () => false,
      () => {
        // Another connection may reach another server (a failover): measure its clock again.
        this.#clock = undefined;
      },
    ) as PublishingRedis;
    command.defineCommand('ssePublish', { numberOfKeys: 1, lua: PUBLISH_SCRIPT });
    this.#command = command;
  }

  publish(input: ChannelEventInput): Promise<ChannelEvent> {
    if (input.id !== undefined) {
      throw new SseError(
        'ERR_SSE_REDIS_ID',
        `@sse/redis uses Redis Stream ids as event ids, so that any instance can replay from them; broadcast without an id (got "${input.id}")`,
      );
    }
    return this.#append(input);
  }

  listen(listener: (event: ChannelEvent) => void, onGap?: GapListener): () => void {
    if (this.#closed) return noop;
    const registration: Registration = { listener, onGap };
    this.#listeners.add(registration);
    if (this.#tail === undefined) this.#startTail();
    return () => {
      if (this.#listeners.delete(registration) && this.#listeners.size === 0) this.#stopTail();
    };
  }

  since(lastEventId: string): readonly ChannelEvent[] | null | Promise<readonly ChannelEvent[] | null> {
    const parts = parseStreamId(lastEventId);
    if (parts === undefined) return null;
    if (this.#maxAgeMs !== undefined && Number(parts.ms) < Date.now() - this.#maxAgeMs) return null;
    return this.#readSince(lastEventId);
  }

  async recent(count: number): Promise<ChannelEvent[]> {
    if (!Number.isSafeInteger(count) || count < 1) throw new SseError('ERR_SSE_OPTION', `recent() needs a positive integer count, got ${String(count)}`);
    await this.#whenUsable(() => true);
    let entries: Entry[];
    try {
      entries = await this.#send('XREVRANGE', () => this.#command.xrevrange(this.stream, '+', '-', 'COUNT', count));
    } catch (error) {
      throw this.#failure('XREVRANGE', error);
    }
    const oldest = this.#maxAgeMs === undefined ? undefined : Date.now() - this.#maxAgeMs;
    const events: ChannelEvent[] = [];
    for (let i = entries.length - 1; i >= 0; i--) {
      const [id, fields] = entries[i]!;
      if (oldest !== undefined && Number(id.slice(0, id.indexOf('-'))) < oldest) continue;
      const event = decodeEntry(id, fields);
      if (event !== undefined) events.push(event);
    }
    return events;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTail();
    this.#listeners.clear();
    this.#notify();
    const command = this.#command;
    if (command.status === 'ready' && !this.#commandTimeout.stalled) {
      await this.#send('QUIT', () => command.quit()).catch(noop);
    }
    command.disconnect();
  }

  async #append(input: ChannelEventInput): Promise<ChannelEvent> {
    if (this.#pendingPublishes >= this.#maxPendingPublishes && !this.#closed) {
      throw new SseRedisUnavailableError(
        this.stream,
        'overloaded',
        `${this.#pendingPublishes} broadcasts are already waiting for Redis (maxPendingPublishes)`,
      );
    }
    // Counted until Redis has answered (or the connection dropped), not only until the caller
    // gave up: a command that timed out still holds memory in the connection's queue.
    this.#pendingPublishes++;
    let sent = false;
    const release = (): void => {
      this.#pendingPublishes--;
    };
    try {
      await this.#whenUsable(() => true);
      const clock = await this.#redisClock();
      const fields = ['d', input.data];
      if (input.event !== undefined) fields.push('e', input.event);
      if (input.json) fields.push('j', '1');
      let id: string | null;
      try {
        id = await this.#send('XADD', () => {
          const pending = this.#command.ssePublish(this.stream, redisDeadline(clock, performance.now(), this.#commandTimeoutMs), this.#maxLen, ...fields);
          sent = true;
          pending.then(release, release);
          return pending;
        });
      } catch (error) {
        const failure = this.#failure('XADD', error);
        // Refused as late although Redis answered: the two clocks moved apart (a clock step on
        // either side). Measure again before the next broadcast.
        if (failure instanceof SseRedisUnavailableError && isReplyError(error)) this.#clock = undefined;
        throw failure;
      }
      if (id === null) throw new SseError('ERR_SSE_REDIS', `XADD on stream "${this.stream}" returned no id`);
      if (this.#maxAgeMs !== undefined) {
        // Trimming is housekeeping: a failure here must not fail the broadcast that already went out.
        this.#send('XTRIM', () => this.#command.xtrim(this.stream, 'MINID', '~', `${Date.now() - this.#maxAgeMs!}-0`)).catch(noop);
      }
      return { id, event: input.event, data: input.data, json: input.json };
    } finally {
      if (!sent) release();
    }
  }

  /** Redis's clock as seen from here: measured once per connection, refreshed in the background. */
  async #redisClock(): Promise<RedisClock> {
    const clock = this.#clock;
    if (clock !== undefined) {
      if (performance.now() - clock.measuredAt > CLOCK_REFRESH_MS) this.#measureClock().catch(noop);
      return clock;
    }
    try {
      return await this.#measureClock();
    } catch (error) {
      throw this.#failure('TIME', error);
    }
  }

  #measureClock(): Promise<RedisClock> {
    this.#clockProbe ??= (async () => {
      const before = performance.now();
      const time = await this.#send('TIME', () => this.#command.time());
      const clock = measureClock(before, [String(time[0]), String(time[1])], performance.now());
      this.#clock = clock;
      return clock;
    })().finally(() => {
      this.#clockProbe = undefined;
    });
    return this.#clockProbe;
  }

  async #readSince(lastEventId: string): Promise<readonly ChannelEvent[] | null> {
    // The reply is cut at the reader's position (below), so that position must be known first.
    await this.#whenUsable(() => this.#tail === undefined || this.#tail.position !== undefined);
    let entries: Entry[];
    try {
      // Inclusive start: the client's own id must still be in the stream, else events after it
      // may have been trimmed (or the id was never issued here) and the replay would have a gap.
      entries = await this.#send('XRANGE', () => this.#command.xrange(this.stream, lastEventId, '+'));
    } catch (error) {
      throw this.#failure('XRANGE', error);
    }
    if (entries[0]?.[0] !== lastEventId) return null;
    // Live events reach this instance through its reader, which may lag behind this read. The
    // reply stops at what the reader has delivered (the channel already holds those that arrived
    // during the read; later ones follow live), so no event reaches a client twice. Waiting for the
    // reader to pass the client's own id keeps older events out of the live path.
    await this.#until(() => this.#tailReached(lastEventId), this.#offlineTimeoutMs);
    const limit = this.#tail?.position;
    const events: ChannelEvent[] = [];
    for (let i = 1; i < entries.length; i++) {
      const [id, fields] = entries[i]!;
      if (limit !== undefined && compareStreamIds(id, limit) > 0) break;
      const event = decodeEntry(id, fields);
      if (event !== undefined) events.push(event);
    }
    return events;
  }

  #tailReached(id: string): boolean {
    const tail = this.#tail;
    if (tail === undefined || tail.stopped) return true;
    return tail.position !== undefined && compareStreamIds(tail.position, id) >= 0;
  }

  /**
   * Waits until the command connection is ready and `also()` holds, or fails as unavailable; fails
   * at once while Redis has not answered an overdue command (a frozen Redis would only queue it).
   */
  async #whenUsable(also: () => boolean): Promise<void> {
    if (this.#closed) throw new SseError('ERR_SSE_REDIS_CLOSED', `the Redis store of stream "${this.stream}" was closed`);
    if (this.#commandTimeout.stalled) throw this.#stalledError();
    const usable = await this.#until(() => this.#command.status === 'ready' && also(), this.#offlineTimeoutMs);
    if (this.#closed) throw new SseError('ERR_SSE_REDIS_CLOSED', `the Redis store of stream "${this.stream}" was closed`);
    if (!usable) {
      throw new SseRedisUnavailableError(
        this.stream,
        'offline',
        `not connected after ${this.#offlineTimeoutMs} ms: ${describe(this.#lastError ?? this.#command.status)}`,
        { cause: this.#lastError },
      );
    }
  }

  /** A command on the command connection, with its deadline; refused at once while Redis is stalled. */
  #send<T>(name: string, send: () => Promise<T>): Promise<T> {
    if (this.#commandTimeout.stalled) return Promise.reject(this.#stalledError());
    return this.#commandTimeout.run(send, { timeoutError: () => this.#timeoutError(name, this.#commandTimeoutMs) });
  }

  /** A command of the reader, with its deadline; the reader keeps waiting for a late answer. */
  #read<T>(tail: Tail, name: string, send: () => Promise<T>, timeoutMs = this.#commandTimeoutMs): Promise<T> {
    return tail.timeout.run(send, { timeoutMs, patient: true, timeoutError: () => this.#timeoutError(name, timeoutMs) });
  }

  #timeoutError(command: string, timeoutMs: number): SseRedisUnavailableError {
    return new SseRedisUnavailableError(this.stream, 'timeout', `Redis did not answer ${command} within ${timeoutMs} ms: frozen, overloaded or unreachable`);
  }

  #stalledError(): SseRedisUnavailableError {
    return new SseRedisUnavailableError(
      this.stream,
      'timeout',
      `Redis has not answered a command for more than ${this.#commandTimeoutMs} ms (frozen or overloaded); nothing was sent`,
    );
  }

  /** Resolves `true` once `ready()` holds, `false` on timeout or close. */
  #until(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    if (this.#closed || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        this.#checks.delete(check);
        resolve(value);
      };
      const check = (): void => {
        if (ready()) finish(true);
        else if (this.#closed) finish(false);
      };
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish(false), timeoutMs) : undefined;
      this.#checks.add(check);
    });
  }

  #notify(): void {
    for (const check of [...this.#checks]) check();
  }

  #failure(command: string, error: unknown): Error {
    if (error instanceof SseError) return error;
    if (isReplyError(error)) {
      if (describe(error).startsWith(LATE_REPLY)) {
        return new SseRedisUnavailableError(this.stream, 'timeout', `Redis ran ${command} after its deadline and refused it`, { cause: error });
      }
      return new SseError('ERR_SSE_REDIS', `Redis refused ${command} on stream "${this.stream}": ${describe(error)}`, { cause: error });
    }
    return new SseRedisUnavailableError(this.stream, 'disconnected', `${command}: ${describe(error)}`, { cause: error });
  }

  #connect(isRetired: () => boolean, onReady: () => void): Redis {
    const redis = new Redis(this.#url, {
      ...this.#redisOptions,
      // Fail fast instead of queueing while disconnected, and never resend a command whose fate
      // is unknown after a reconnect (an XADD sent twice would be a duplicate event).
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      // Rejects the commands in flight as soon as the connection drops (ioredis would keep them
      // pending for 20 reconnection attempts).
      maxRetriesPerRequest: 0,
      lazyConnect: false,
      // The store gives every command its own deadline (commandTimeoutMs); ioredis's would also
      // cut the reader's blocking XREAD and drop the answer that still comes after it.
      commandTimeout: undefined,
    });
    redis.on('ready', () => {
      if (isRetired()) return;
      onReady();
      this.#updateStatus();
      this.#notify();
    });
    // ioredis emits `error` for every failed attempt; the listener also keeps it from logging them.
    redis.on('error', (error: unknown) => {
      if (!isRetired()) this.#lastError = error;
    });
    redis.on('close', () => {
      if (isRetired()) return;
      this.#updateStatus(this.#lastError ?? new Error('connection closed'));
      this.#notify();
    });
    return redis;
  }

  #updateStatus(error?: unknown): void {
    if (this.#closed) return;
    const tail = this.#tail;
    const up =
      this.#command.status === 'ready' &&
      !this.#commandTimeout.stalled &&
      (tail === undefined || (tail.redis.status === 'ready' && !tail.failing && !tail.timeout.stalled));
    let status: RedisStoreStatus | undefined;
    if (up && this.#state !== 'up') {
      this.#lastError = undefined;
      status = { state: 'up' };
    } else if (!up && error !== undefined && this.#state !== 'down') {
      status = { state: 'down', error };
    }
    if (status === undefined) return;
    this.#state = status.state;
    try {
      this.#onStatus(status);
    } catch (hookError) {
      console.error('[@sse/redis] onStatus threw:', hookError);
    }
  }

  #startTail(): void {
    const tail: Tail = {
      redis: undefined as unknown as Redis,
      timeout: undefined as unknown as CommandTimeout,
      position: undefined,
      onEntry: false,
      checkDue: false,
      lastDelivered: undefined,
      listenedAt: performance.now(),
      failing: false,
      stopped: false,
    };
    tail.timeout = new CommandTimeout(
      this.#commandTimeoutMs,
      (error) => {
        if (!tail.stopped) this.#updateStatus(error);
      },
      () => {
        if (!tail.stopped) this.#updateStatus();
      },
    );
    tail.redis = this.#connect(
      () => tail.stopped || this.#closed,
      () => {
        // What happened while this reader was away (a restart without data, a deleted key) is
        // checked before it reads on.
        tail.checkDue = true;
      },
    );
    this.#tail = tail;
    void this.#follow(tail); // runs until the tail stops; it catches and retries its own failures
  }

  #stopTail(): void {
    const tail = this.#tail;
    if (tail === undefined) return;
    tail.stopped = true;
    this.#tail = undefined;
    // Rejects the blocked XREAD, which ends the loop.
    tail.redis.disconnect();
    this.#notify();
    this.#updateStatus();
  }

  /** The reader: delivers every entry after `tail.position`, resuming there after any outage. */
  async #follow(tail: Tail): Promise<void> {
    while (!tail.stopped) {
      try {
        await this.#until(() => tail.stopped || tail.redis.status === 'ready', Infinity);
        if (tail.stopped) return;
        if (tail.position === undefined) {
          tail.position = await this.#startPosition(tail);
          this.#notify();
        }
        if (tail.checkDue) {
          tail.checkDue = false;
          await this.#checkReset(tail);
          if (tail.stopped) return;
        }
        const reply = await this.#read(
          tail,
          'XREAD',
          () =>
            tail.redis.xread('COUNT', READ_BATCH, 'BLOCK', READ_BLOCK_MS, 'STREAMS', this.stream, tail.position!) as Promise<
              [key: string, entries: Entry[]][] | null
            >,
          READ_BLOCK_MS + this.#commandTimeoutMs,
        );
        if (tail.stopped) return;
        if (tail.failing) {
          tail.failing = false;
          this.#updateStatus();
        }
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) {
          // Nothing for a whole block: a reader waiting after an id the stream no longer reaches
          // (deleted, recreated, rewound) would wait like this forever.
          tail.checkDue = true;
          continue;
        }
        for (const [id, fields] of entries) this.#accept(tail, id, fields);
        this.#notify();
      } catch (error) {
        if (tail.stopped) return;
        // A lost connection ends in the wait above until ioredis has reconnected; an error that
        // Redis answered (wrong key type, ACL) is reported and retried after a pause.
        if (isReplyError(error)) {
          tail.failing = true;
          this.#updateStatus(this.#failure('XREAD', error));
          await this.#until(() => tail.stopped, READ_RETRY_MS);
        }
      }
    }
  }

  /** Delivers one entry read by the reader, after telling of the gap before it, if any. */
  #accept(tail: Tail, id: string, fields: readonly string[]): void {
    const event = decodeEntry(id, fields);
    // Each entry this store wrote names the entry before it: another one means the reader never
    // saw what came between (trimmed first), or that the stream started over.
    const previous = tail.onEntry ? fieldValue(fields, PREVIOUS_FIELD) : undefined;
    if (previous !== undefined && previous !== tail.position && parseStreamId(previous) !== undefined) {
      const rewound = previous === '0-0' || compareStreamIds(previous, tail.position!) < 0;
      this.#gap(tail, { reason: rewound ? 'reset' : 'trimmed', after: tail.lastDelivered, resumeFrom: event?.id });
    }
    tail.position = id;
    tail.onEntry = true;
    if (event === undefined) return;
    tail.lastDelivered = id;
    for (const { listener } of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // A listener's bug must not stop delivery to the others, nor the reader.
        console.error('[@sse/redis] a channel listener threw:', error);
      }
    }
  }

  /**
   * Whether the stream still reaches past the reader's position: its key is gone, or its last id
   * went below the position (the key was deleted and written again, Redis restarted without its
   * data, an entry with a far-future id was written then deleted), the reader would wait forever.
   * It then starts again from the new stream's beginning and tells of the gap.
   */
  async #checkReset(tail: Tail): Promise<void> {
    if (!tail.onEntry || tail.position === undefined) return;
    let info: unknown[] | undefined;
    try {
      info = (await this.#read(tail, 'XINFO', () => tail.redis.xinfo('STREAM', this.stream))) as unknown[];
    } catch (error) {
      if (!isReplyError(error) || !/no such key/i.test(describe(error))) throw error;
    }
    if (tail.stopped) return;
    const last = info === undefined ? undefined : infoField(info, 'last-generated-id');
    if (typeof last === 'string' && parseStreamId(last) !== undefined && compareStreamIds(last, tail.position) >= 0) return;
    const first = info === undefined ? undefined : infoField(info, 'first-entry');
    const resumeFrom = Array.isArray(first) ? decodeEntry(String(first[0]), first[1] as string[])?.id : undefined;
    tail.position = '0-0';
    tail.onEntry = false;
    this.#gap(tail, { reason: 'reset', after: tail.lastDelivered, resumeFrom });
  }

  #gap(tail: Tail, gap: StoreGap): void {
    if (tail.stopped) return;
    for (const { onGap } of this.#listeners) {
      if (onGap === undefined) continue;
      try {
        onGap({ ...gap });
      } catch (error) {
        console.error('[@sse/redis] a gap listener threw:', error);
      }
    }
  }

  /**
   * Where the reader starts: the moment the channel started listening, on Redis's clock (entry
   * ids are Redis timestamps). Connecting takes a while, and events appended meanwhile, on any
   * instance, must still reach the subscribers this instance already has. Only durations of this
   * process's clock are used, so clock skew between hosts does not matter; the estimate errs early
   * by the round trip, which at worst delivers an event appended just before the channel listened.
   */
  async #startPosition(tail: Tail): Promise<string> {
    const [seconds, micros] = await this.#read(tail, 'TIME', () => tail.redis.time());
    const elapsed = performance.now() - tail.listenedAt;
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    return `${Math.max(0, Math.floor(redisNow - elapsed) - 1)}-0`;
  }
}

/** The value of `name` in an entry's flat field list. */
function fieldValue(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** The value of `name` in an `XINFO STREAM` reply (a flat list of names and values). */
function infoField(info: readonly unknown[], name: string): unknown {
  for (let i = 0; i + 1 < info.length; i += 2) if (info[i] === name) return info[i + 1];
  return undefined;
}

function isReplyError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ReplyError';
}

/** An entry as this store writes it (`d` data, `e` event, `j` JSON flag); anything else is skipped. */
function decodeEntry(id: string, fields: readonly string[]): ChannelEvent | undefined {
  let data: string | undefined;
  let event: string | undefined;
  let json = false;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    switch (fields[i]) {
      case 'd':
        data = value;
        break;
      case 'e':
        event = value;
        break;
      case 'j':
        json = value === '1';
        break;
      default:
        break; // a field this store does not write
    }
  }
  // An entry written by something else (another app on the same key) never reaches a client,
  // and an event name with a line break could inject fields.
  if (data === undefined || (event !== undefined && /[\r\n]/.test(event))) return undefined;
  return { id, event, data, json };
}

function logStatus(stream: string): (status: RedisStoreStatus) => void {
  let down = false;
  return (status) => {
    if (status.state === 'down') {
      down = true;
      console.warn(
        `[@sse/redis] stream "${stream}": Redis is unavailable (${describe(status.error)}); local streams stay open, broadcasts fail until it is back`,
      );
    } else if (down) {
      down = false;
      console.warn(`[@sse/redis] stream "${stream}": Redis is back`);
    }
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function noop(): void {}
