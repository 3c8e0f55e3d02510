import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { EventSource } from 'eventsource';
import { createTopicHub, sse, type TopicHub } from '@sse/node';
import { expect } from 'vitest';
import { createRedisTopicStore, type RedisTopicStore, type RedisTopicStoreOptions } from '../src/index.js';

/** One app instance: node:http, @sse/node's `sse()`, a topic hub over a Redis topic store. `/events?topics=a,b`. */
export interface TopicInstance {
  url: string;
  store: RedisTopicStore;
  hub: TopicHub;
  errors: unknown[];
  /** Streams whose `subscribe` has resolved (they are live from then on). */
  subscribed(): number;
  /** Cuts every open client connection (the clients reconnect with their Last-Event-ID). */
  cutClients(): void;
  close(): Promise<void>;
}

export async function startTopicInstance(options: RedisTopicStoreOptions, streams: { maxBufferedBytes?: number } = {}): Promise<TopicInstance> {
  const errors: unknown[] = [];
  let subscribed = 0;
  const store = createRedisTopicStore({ ...options, onError: (error) => errors.push(error) });
  const hub = createTopicHub({ store, onError: (error) => errors.push(error) });
  const events = sse(
    (stream, req) => {
      const topics = new URL(req.url ?? '/', 'http://x').searchParams.get('topics')?.split(',') ?? [];
      void hub.subscribe(stream, topics).then(() => subscribed++);
    },
    { retry: 50, keepAlive: false, ...streams },
  );
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/events') === true) events(req, res);
    else res.writeHead(404).end();
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    store,
    hub,
    errors,
    subscribed: () => subscribed,
    cutClients() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
      await hub.close();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** What one topic showed a client: the published numbers it got, and the gaps, in arrival order. */
export type Seen = number | `gap:${string}`;

/** A real EventSource (the `eventsource` package) on a topic stream, its events split by topic. */
export interface TopicClient {
  source: EventSource;
  seen: Map<string, Seen[]>;
  opens(): number;
  /** The `lastEventId` of the last event it fired. */
  lastEventId(): string | undefined;
  /** The last value received per topic. */
  last(topic: string): number | undefined;
  close(): void;
}

export function openTopicClient(url: string, topics: readonly string[]): TopicClient {
  const source = new EventSource(`${url}/events?topics=${topics.map(encodeURIComponent).join(',')}`);
  const seen = new Map<string, Seen[]>(topics.map((topic) => [topic, []]));
  let opens = 0;
  let lastEventId: string | undefined;
  source.addEventListener('open', () => opens++);
  source.addEventListener('message', (event) => {
    lastEventId = event.lastEventId;
    const { topic, data } = JSON.parse(event.data as string) as { topic: string; data: number };
    seen.get(topic)?.push(data);
  });
  source.addEventListener('sse-gap', (event) => {
    lastEventId = event.lastEventId;
    const { reason, topics: gapped } = JSON.parse(event.data as string) as { reason: string; topics: string[] };
    for (const topic of gapped) seen.get(topic)?.push(`gap:${reason}`);
  });
  return {
    source,
    seen,
    opens: () => opens,
    lastEventId: () => lastEventId,
    last(topic) {
      const values = (seen.get(topic) ?? []).filter((value): value is number => typeof value === 'number');
      return values.at(-1);
    },
    close: () => source.close(),
  };
}

/**
 * The promise every fault test checks, per topic: each published value arrives at most once, in
 * order, and a value that never arrived has a gap reported in its place (never a silent hole).
 * Returns the gap reasons seen per topic.
 */
export function expectNoSilentGap(client: TopicClient, log: Published): Map<string, string[]> {
  const gaps = new Map<string, string[]>();
  for (const [topic, acked] of log.acked) {
    const seen = client.seen.get(topic) ?? [];
    // A failed publish may still have been written: it may arrive, and may be missing without a gap.
    const values = [...acked, ...seen.filter((item): item is number => typeof item === 'number' && log.maybe.has(item))].sort((a, b) => a - b);
    const got = seen.filter((value): value is number => typeof value === 'number');
    expect(got, `${topic}: in order, no duplicates`).toEqual([...new Set(got)].sort((a, b) => a - b));
    expect(got.every((value) => values.includes(value)), `${topic}: only published values`).toBe(true);
    let gapSince = false;
    let at = 0; // index into values of the next value expected
    for (const item of seen) {
      if (typeof item === 'string') {
        gapSince = true;
        (gaps.get(topic) ?? gaps.set(topic, []).get(topic)!).push(item.slice(4));
        continue;
      }
      const index = values.indexOf(item);
      if (index > at) expect(gapSince, `${topic}: values ${values.slice(at, index).join(',')} missing before ${item} without a gap (saw ${seen.join(' ')})`).toBe(true);
      at = index + 1;
      gapSince = false;
    }
  }
  return gaps;
}

/** Polls until `check` holds; a hang guard, not a budget. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** What a test published: the values acknowledged per topic, and those whose publish failed (they may still have been written). */
export interface Published {
  acked: Map<string, number[]>;
  maybe: Set<number>;
  next: number;
}

export function published(): Published {
  return { acked: new Map(), maybe: new Set(), next: 0 };
}

/** Publishes `count` numbered events to each topic through `hub`, recording what was acknowledged. */
export async function publishRound(hub: TopicHub, topics: readonly string[], log: Published, count = 1): Promise<void> {
  for (let i = 0; i < count; i++) {
    await Promise.all(
      topics.map(async (topic) => {
        const value = log.next++;
        try {
          await hub.publish(topic, { data: value });
          (log.acked.get(topic) ?? log.acked.set(topic, []).get(topic)!).push(value);
        } catch {
          log.maybe.add(value);
        }
      }),
    );
  }
}

/**
 * A TCP proxy in front of Redis whose link can be cut: `cut()` drops every connection through it
 * and refuses new ones until `restore()`, as a network partition between one instance and Redis.
 */
export async function startCuttableProxy(redisPort: number): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let down = false;
  const server = createNetServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(redisPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      down = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
