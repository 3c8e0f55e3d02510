/**
 * The contenders. Each module exports `start(): Promise<BenchServer>` and is loaded only in its
 * own server process. To add one, write a module next to these and list it here; nothing else
 * in the harness needs to change.
 */
export interface ContenderInfo {
  /** Short name used on the command line (`--only=raw,sse-node`). */
  name: string;
  /** Name shown in the tables. */
  label: string;
  /** Module path relative to this folder. */
  module: string;
  /**
   * `sse`: this project; `peer`: a library people use today; `baseline`: hand-written code;
   * `cluster`: this project across several instances through a shared store. A cluster has a
   * network hop the others do not, so it gets tables of its own and no targets. `reference`: a
   * floor below what a library can do (bytes straight to the socket), shown but no target's peer.
   */
  kind: 'sse' | 'peer' | 'baseline' | 'cluster' | 'reference';
  /**
   * Server processes per measurement, each running `start()`; clients are spread over them in
   * turn, broadcasts go to the first only, and CPU and memory are summed over all. Defaults to 1.
   */
  instances?: number;
  /** Each measurement starts a throwaway `redis-server` and hands its URL to every instance. */
  redis?: boolean;
  /** Takes part in the fan-out scenario only (the slow consumer is a single-instance question). */
  fanoutOnly?: boolean;
  /** Serves topics (`/events?topic=NAME`) and runs in the topics scenario only, never in the default set. */
  topics?: boolean;
  /** What it is, for the report's "what runs" table. */
  description: string;
}

export const CONTENDERS: readonly ContenderInfo[] = [
  {
    name: 'raw', label: 'raw node:http', module: './raw.ts', kind: 'baseline',
    description: '`res.writeHead` + `flushHeaders`, then per broadcast one `Buffer` built from a template string and written to every response with `res.write`. No validation, no backpressure.',
  },
  {
    name: 'floor', label: 'floor: pre-framed to the socket', module: './floor.ts', kind: 'reference',
    description: 'As raw, but per broadcast one `Buffer` holding the whole HTTP/1.1 chunk (`<hex length>\\r\\n` + frame + `\\r\\n`) written with `res.socket.write` to every socket, each socket corked once per tick (as Node\'s `OutgoingMessage` does). The floor under `res.write`.',
  },
  {
    name: 'floor-uncorked', label: 'floor, uncorked', module: './floor-uncorked.ts', kind: 'reference',
    description: 'The floor without corking: the same pre-framed `Buffer` per broadcast, written with `res.socket.write` straight to every socket. One broadcast writes each socket once, so a deferred uncork per socket is pure cost; @sse/node corks only a socket written twice in a tick.',
  },
  {
    name: 'sse-node', label: '@sse/node', module: './sse-node.ts', kind: 'sse',
    description: '`http.createServer(sse((stream) => channel.subscribe(stream), { keepAlive: false }))`, `channel.broadcast({ id, data })`.',
  },
  { name: 'sse-express', label: '@sse/express', module: './sse-express.ts', kind: 'sse', description: 'The same handler through the Express 5 adapter.' },
  { name: 'sse-koa', label: '@sse/koa', module: './sse-koa.ts', kind: 'sse', description: 'The same handler through the Koa 3 adapter.' },
  { name: 'sse-fastify', label: '@sse/fastify', module: './sse-fastify.ts', kind: 'sse', description: 'The same handler through the Fastify 5 adapter (logger off).' },
  { name: 'sse-hono', label: '@sse/hono', module: './sse-hono.ts', kind: 'sse', description: 'The same handler through the Hono 4 adapter on `@hono/node-server` 2.' },
  {
    name: 'better-sse', label: 'better-sse 0.16', module: './better-sse.ts', kind: 'peer',
    description: 'On plain `node:http`: `createSession(req, res, { keepAlive: null, retry: null })`, `channel.register(session)`, `channel.broadcast(data, \'message\', { eventId })`.',
  },
  {
    name: 'hono-streamsse', label: 'Hono streamSSE', module: './hono-streamsse.ts', kind: 'peer',
    description: '`streamSSE(c, …)` parked until the client leaves; a broadcast calls `writeSSE({ id, data })` on every open stream, the data stringified once.',
  },
  {
    name: 'express-handwritten', label: 'Express, hand-written', module: './express-handwritten.ts', kind: 'baseline',
    description: 'The handler the tutorials show: `res.writeHead(200, …)`, a list of responses, a template string `res.write` per client.',
  },
  {
    name: 'sse-redis', label: '@sse/node × 2 + @sse/redis', module: './sse-redis.ts', kind: 'cluster', instances: 2, redis: true, fanoutOnly: true,
    description: 'Two @sse/node processes sharing one channel on @sse/redis and a throwaway redis-server; broadcasts on the first.',
  },
  {
    name: 'raw-topics', label: 'raw node:http, topics by hand', module: './raw-topics.ts', kind: 'baseline', topics: true,
    description: 'Topics scenario only: a `Map` from topic to responses; per publish one `Buffer` from a template string, `res.write` to each response of the topic.',
  },
  {
    name: 'sse-topics', label: '@sse/node + createTopicHub', module: './sse-topics.ts', kind: 'sse', topics: true,
    description: 'Topics scenario only: `sse(() => {}, { topics: { hub, from: (req) => [topic], authorize: () => true } })` on a `createTopicHub()` (in-memory store), `hub.publish(topic, { data })`.',
  },
];

/** The contenders of the default set (`--only` picks among them); the topics scenario has its own pair. */
export const DEFAULT_CONTENDERS: readonly ContenderInfo[] = CONTENDERS.filter((contender) => contender.topics !== true);

/** The topics scenario: raw by hand, then @sse/node with a hub. */
export const TOPIC_CONTENDERS = ['raw-topics', 'sse-topics'] as const;

/** The contender all ratios are computed against. */
export const BASELINE = 'raw';

export function findContender(name: string): ContenderInfo {
  const found = CONTENDERS.find((contender) => contender.name === name);
  if (found === undefined) {
    throw new Error(`unknown contender "${name}"; known: ${CONTENDERS.map((contender) => contender.name).join(', ')}`);
  }
  return found;
}
