import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { createChannel, sse, type Channel, type ReplayResult } from '@sse/node';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { createRedisStore, SseRedisUnavailableError, type RedisStore, type RedisStoreOptions, type RedisStoreStatus } from '../src/index.js';

/** One app instance as users run it: node:http, @sse/node's `sse()`, a channel over the Redis store. */
export interface Instance {
  url: string;
  store: RedisStore;
  channel: Channel;
  statuses: RedisStoreStatus[];
  channelErrors: unknown[];
  /** POSTs a chat message; resolves with the status and the body (the event id, or the error code). */
  broadcast(text: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

/**
 * Starts an instance. Each stream first gets a `replay` event saying how its replay went (sent
 * from `onReplay`, so it also tells the test that the stream is subscribed), then `chat` events.
 */
export async function startInstance(options: Omit<RedisStoreOptions, 'onStatus'>): Promise<Instance> {
  const statuses: RedisStoreStatus[] = [];
  const channelErrors: unknown[] = [];
  const store = createRedisStore({ ...options, onStatus: (status) => statuses.push(status) });
  const channel = createChannel({ store, onError: (error) => channelErrors.push(error) });
  const events = sse(
    (stream) => {
      channel.subscribe(stream, { onReplay: (result) => stream.send({ event: 'replay', data: describeReplay(result) }) });
    },
    { retry: 100, keepAlive: false },
  );
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/events') === true) {
      events(req, res);
      return;
    }
    if (req.method === 'POST' && req.url === '/broadcast') {
      readBody(req)
        .then((text) => channel.broadcast({ event: 'chat', data: { text } }))
        .then(
          (id) => res.writeHead(200, { 'content-type': 'text/plain' }).end(id),
          (error: unknown) => {
            const unavailable = error instanceof SseRedisUnavailableError;
            res.writeHead(unavailable ? 503 : 500, { 'content-type': 'text/plain' }).end((error as { code?: string }).code ?? String(error));
          },
        );
      return;
    }
    res.writeHead(404).end();
  });
  const sockets = trackSockets(server);
  await listen(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    store,
    channel,
    statuses,
    channelErrors,
    async broadcast(text) {
      const response = await fetch(`${url}/broadcast`, { method: 'POST', body: text });
      return { status: response.status, body: await response.text() };
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await channel.close();
    },
  };
}

function describeReplay(result: ReplayResult): { status: string; count?: number } {
  return result.status === 'replayed' ? { status: result.status, count: result.count } : { status: result.status };
}

/** A client over fetch + eventsource-parser: sends `Last-Event-ID` when given, records every event. */
export interface StreamClient {
  events: EventSourceMessage[];
  /** `chat` events' texts, in arrival order. */
  texts(): string[];
  /** Resolves with the `replay` event's data once it arrived. */
  replay(): Promise<{ status: string; count?: number }>;
  /** Whether the response body has ended. */
  readonly ended: boolean;
  close(): void;
}

export async function openStream(url: string, lastEventId?: string): Promise<StreamClient> {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  const response = await fetch(url, { headers, signal: controller.signal });
  if (response.status !== 200 || response.body === null) throw new Error(`expected a stream, got ${response.status}`);
  const events: EventSourceMessage[] = [];
  let ended = false;
  const parser = createParser({ onEvent: (event) => events.push(event) });
  const decoder = new TextDecoder();
  // Reads in the background while the test looks at `events`; it catches its own errors.
  void (async () => {
    try {
      const reader = response.body!.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) parser.feed(decoder.decode(read.value, { stream: true }));
    } catch {
      // aborted by close()
    }
    ended = true;
  })();
  return {
    events,
    texts: () => chatTexts(events),
    async replay() {
      let found: EventSourceMessage | undefined;
      await waitFor(() => {
        found = events.find((event) => event.event === 'replay');
        return found !== undefined;
      });
      return JSON.parse(found!.data) as { status: string; count?: number };
    },
    get ended() {
      return ended;
    },
    close: () => controller.abort(),
  };
}

export function chatTexts(events: readonly { event?: string | undefined; data: string }[]): string[] {
  return events.filter((event) => event.event === 'chat').map((event) => (JSON.parse(event.data) as { text: string }).text);
}

/**
 * A stand-in for a load balancer: forwards every request to the current target; `switchTo`
 * routes new requests elsewhere and cuts the open ones, so clients reconnect to the new target.
 */
export async function startBalancer(target: string): Promise<{ url: string; switchTo(target: string): void; close(): Promise<void> }> {
  let current = target;
  const server = createServer((req, res) => {
    const upstream = request(`${current}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  const sockets = trackSockets(server);
  await listen(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    switchTo(next) {
      current = next;
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls until `check` returns true; generous by default, the machine may be busy. */
export async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

/**
 * A TCP proxy in front of Redis that delays, by `lagMs`, what Redis sends: on connections that
 * issued an `XREAD` (`'reader'`: the instance's reader falls behind while its other commands stay
 * fast), or on every connection from the start (`'always'`: a slow link).
 */
export async function startLaggingProxy(
  redisPort: number,
  lagMs: number,
  mode: 'reader' | 'always' = 'reader',
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    let lagging = mode === 'always';
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.on('data', (chunk: Buffer) => {
      if (chunk.includes('XREAD') || chunk.includes('xread')) lagging = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (lagging) setTimeout(() => client.write(chunk), lagMs);
      else client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
