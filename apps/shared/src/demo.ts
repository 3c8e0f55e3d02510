import { createStreamRegistry, type AnyEventStream, type Rejection, type ServeTopicsOptions, type StreamRegistry } from '@sse/core';
import { ChatUnavailableError, createChatChannel, createChatRoom, type ChatRoom } from './chat.js';
import { describeRedisUrl, readConfig, type DemoConfig } from './config.js';
import { createLiveFeed, type ServerStatus } from './live.js';
import { parseMessageRequest, readBodyText, type JsonReply } from './messages.js';
import { loadPage, type PageAsset } from './page.js';
import { createRooms, createRoomsHub, RoomsUnavailableError, type RoomsBackend, type Rooms, type RoomTopics } from './rooms.js';
import { MAX_PRIVATE_STREAMS_PER_CLIENT, PRIVATE_RETRY_AFTER_SECONDS, createPrivateFeed, type PrivateRequest } from './private.js';
import { exitOnSignals, type ClosableServer } from './shutdown.js';

/** Options every `sse()` route of the apps is given (the apps add `authorize` and `clientKey` where needed). */
export interface DemoStreamOptions {
  /** Tracks the route's streams: caps, drain on shutdown, `/metrics`. */
  registry: StreamRegistry;
  /** Reconnection delay sent to each client, in ms. */
  retry: number;
  /** Spread of `retry` per stream, so that a restart does not bring every client back at once. */
  retryJitter: number;
}

/** A plain-text answer (`GET /metrics`). */
export interface TextReply {
  headers: Record<string, string>;
  body: string;
}

/**
 * Everything the sample apps do, framework-neutral. Each app's server file maps its routes to
 * these members and adds nothing but framework glue.
 */
export interface Demo {
  readonly config: DemoConfig;
  /** The page: `GET /`, `/app.js`, `/style.css`. */
  readonly page: readonly PageAsset[];
  /** Options of `GET /sse` and `GET /chat`: drained on shutdown. */
  readonly streamOptions: DemoStreamOptions;
  /**
   * Options of `GET /private`, with a registry of its own: at most 3 streams per client key (the
   * app passes its client's IP as `clientKey`); past it an EventSource is told to come back in
   * about 5 s (an empty 200 stream with a `retry`), other clients get 429 + `Retry-After: 5`.
   * Drained on shutdown too.
   */
  readonly privateStreamOptions: DemoStreamOptions;
  /** `GET /sse`: welcome, status, then the time and the metrics every tick. */
  live(stream: AnyEventStream): void;
  /** `GET /chat`: what the client missed (replay or snapshot), then new messages. */
  chat(stream: AnyEventStream): void;
  /** `authorize` of `GET /private`: 401 without a valid token. */
  authorizePrivate(request: PrivateRequest): Rejection | true;
  /** `GET /private`, once authorized and admitted. */
  privateStream(stream: AnyEventStream): void;
  /** `POST /messages`: validates and broadcasts; 201 with the message, or 400/413/415/503. */
  postMessage(contentType: string | undefined, body: AsyncIterable<Uint8Array> | null): Promise<JsonReply>;
  /**
   * The `topics` option of `GET /events?rooms=a,b`: the rooms are read from the URL once, before
   * any header (400 with a text message for a bad or missing list), every room is allowed (they
   * are public), then each is resumed from
   * `Last-Event-ID` or told `sse-gap`, all on one stream.
   */
  roomsTopics<Args extends unknown[]>(urlOf: (...args: Args) => string): ServeTopicsOptions<Args, RoomTopics>;
  /** The `topics` option of `GET /rooms/:room/events`: one room (400 for a bad room name). */
  roomTopics<Args extends unknown[]>(roomOf: (...args: Args) => string | undefined): ServeTopicsOptions<Args, RoomTopics>;
  /** The handler of both rooms routes, run once the rooms are live: sends `joined`. */
  roomsJoined(stream: AnyEventStream): void;
  /** `POST /rooms/:room/messages`: validated as `POST /messages`; 201 with the message, its epoch and offset, or 400/413/415/503 (503 also while the rooms' Redis cannot be reached). */
  postRoomMessage(room: string | undefined, contentType: string | undefined, body: AsyncIterable<Uint8Array> | null): Promise<JsonReply>;
  /** `GET /metrics`: the stream counters in Prometheus text format. */
  metrics(): TextReply;
  /** Prints the startup line with the URL (call it once the server listens). */
  listening(server: ListeningServer): void;
  /** Drains every stream on SIGINT/SIGTERM, then closes the server, then exits. */
  exitOnSignals(server: ClosableServer): void;
}

/** What `listening()` needs of a server: Node's `server.address()`. */
export interface ListeningServer {
  address(): { port: number } | string | null;
}

const SHUTTING_DOWN: JsonReply = {
  status: 503,
  headers: { 'retry-after': '2' },
  body: { error: 'the server is shutting down; send it again in a moment' },
};

const SHUTTING_DOWN_STATUS: ServerStatus = { state: 'shutting-down', text: 'the server is shutting down; this page reconnects by itself' };

/** Each client's reconnection delay: 1 to 2 s (1500 ms, give or take a third). */
const RECONNECT_MS = 1500;
const RECONNECT_JITTER = 1 / 3;

/** How long the drain waits for clients to receive the end of their stream before cutting them off. */
const DRAIN_TIMEOUT_MS = 3000;

/** The rooms go to the Redis Cluster when one is given, else to `REDIS_URL`'s Redis, else stay in memory. */
function roomsBackend(config: DemoConfig): RoomsBackend {
  if (config.redisClusterNodes !== undefined) return { kind: 'cluster', nodes: config.redisClusterNodes };
  if (config.redisUrl !== undefined) return { kind: 'redis', url: config.redisUrl };
  return { kind: 'memory' };
}

function describeRoomsBackend(backend: RoomsBackend): string {
  if (backend.kind === 'memory') return 'in memory';
  if (backend.kind === 'redis') return `in Redis at ${describeRedisUrl(backend.url)}`;
  return `in the Redis Cluster at ${backend.nodes.join(',')}`;
}

/** The environment's config, or, when a value is bad, one line saying which and why, and exit code 1 (no stack trace). */
function readConfigOrExit(framework: string): DemoConfig {
  try {
    return readConfig();
  } catch (error) {
    console.error(`${framework} demo cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

export function createDemo(framework: string, config: DemoConfig = readConfigOrExit(framework)): Demo {
  const chat: ChatRoom = createChatRoom(createChatChannel(config.redisUrl));
  const rooms: Rooms = createRooms(createRoomsHub(roomsBackend(config)));
  const live = createLiveFeed(framework, config.tickMs, () => ({
    tick,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    memoryMiB: Math.round((process.memoryUsage.rss() / 1_048_576) * 10) / 10,
    streams: { live: live.listeners, chat: chat.listeners, private: privateFeed.listeners },
    messages: chat.posted,
  }));
  const privateFeed = createPrivateFeed({ token: config.privateToken });
  // Two registries, because a registry's per-key cap counts every stream it tracks: this one
  // (no cap) for the page's own streams, and one for /private alone.
  const registry = createStreamRegistry();
  const privateRegistry = createStreamRegistry({
    maxStreamsPerKey: MAX_PRIVATE_STREAMS_PER_CLIENT,
    retryAfterSeconds: PRIVATE_RETRY_AFTER_SECONDS,
  });
  const startedAt = Date.now();
  let stopping = false;
  let tick = 0;

  const ticker = setInterval(() => {
    tick++;
    live.tick();
    privateFeed.tick();
  }, config.tickMs);

  const reconnect = { retry: RECONNECT_MS, retryJitter: RECONNECT_JITTER };

  return {
    config,
    page: loadPage(),
    streamOptions: { registry, ...reconnect },
    privateStreamOptions: { registry: privateRegistry, ...reconnect },
    live: (stream) => live.join(stream),
    chat: (stream) => chat.join(stream),
    authorizePrivate: (request) => privateFeed.authorize(request),
    privateStream: (stream) => privateFeed.join(stream),
    async postMessage(contentType, body) {
      const parsed = parseMessageRequest(contentType, await readBodyText(body));
      if (!parsed.ok) return parsed.reply;
      // Checked once the body is in: accepting it now would lose it, since the streams that
      // should carry it are closing.
      if (stopping) return SHUTTING_DOWN;
      try {
        const message = await chat.post(parsed.input);
        return { status: 201, headers: {}, body: message };
      } catch (error) {
        if (error instanceof ChatUnavailableError) return { status: 503, headers: { 'retry-after': '2' }, body: { error: error.message } };
        throw error;
      }
    },
    roomsTopics: (urlOf) => rooms.manyTopics(urlOf),
    roomTopics: (roomOf) => rooms.oneTopic(roomOf),
    roomsJoined: (stream) => rooms.joined(stream),
    async postRoomMessage(room, contentType, body) {
      const badRoom = rooms.checkRoom(room);
      if (badRoom !== undefined || room === undefined) return badRoom ?? { status: 400, headers: {}, body: { error: 'a room is required' } };
      const parsed = parseMessageRequest(contentType, await readBodyText(body));
      if (!parsed.ok) return parsed.reply;
      if (stopping) return SHUTTING_DOWN;
      try {
        return { status: 201, headers: {}, body: await rooms.post(room, parsed.input) };
      } catch (error) {
        if (error instanceof RoomsUnavailableError) return { status: 503, headers: { 'retry-after': '2' }, body: { error: error.message } };
        throw error;
      }
    },
    metrics() {
      return {
        headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' },
        body: registry.toPrometheus('sse') + privateRegistry.toPrometheus('sse_private'),
      };
    },
    listening(server) {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      const chatStore = config.redisUrl === undefined ? 'in memory' : `in Redis at ${describeRedisUrl(config.redisUrl)}`;
      console.log(`${framework} demo listening on http://localhost:${port} (chat history ${chatStore}, rooms ${describeRoomsBackend(roomsBackend(config))})`);
    },
    exitOnSignals(server) {
      exitOnSignals(server, {
        forceAfterMs: DRAIN_TIMEOUT_MS + 2000,
        async drain() {
          stopping = true;
          clearInterval(ticker);
          // From here on, new EventSources are told to come back later (others get 503 +
          // Retry-After); every open one gets the status the
          // page shows, then a clean end (queued events first).
          const last = { event: 'status', data: SHUTTING_DOWN_STATUS };
          const results = await Promise.all(
            [registry, privateRegistry].map((each) => each.closeAll({ event: last, timeoutMs: DRAIN_TIMEOUT_MS })),
          );
          const closed = results.reduce((sum, result) => sum + result.closed, 0);
          const forced = results.reduce((sum, result) => sum + result.forced, 0);
          console.log(`closed ${closed} stream${closed === 1 ? '' : 's'}${forced > 0 ? ` (${forced} cut off after ${DRAIN_TIMEOUT_MS} ms)` : ''}`);
          await Promise.all([chat.close(), rooms.close()]);
        },
      });
    },
  };
}
