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
   * network hop the others do not, so it gets tables of its own and no targets.
   */
  kind: 'sse' | 'peer' | 'baseline' | 'cluster';
  /**
   * Server processes per measurement, each running `start()`; clients are spread over them in
   * turn, broadcasts go to the first only, and CPU and memory are summed over all. Defaults to 1.
   */
  instances?: number;
  /** Each measurement starts a throwaway `redis-server` and hands its URL to every instance. */
  redis?: boolean;
  /** Takes part in the fan-out scenario only (the slow consumer is a single-instance question). */
  fanoutOnly?: boolean;
}

export const CONTENDERS: readonly ContenderInfo[] = [
  { name: 'raw', label: 'raw node:http', module: './raw.ts', kind: 'baseline' },
  { name: 'sse-node', label: '@sse/node', module: './sse-node.ts', kind: 'sse' },
  { name: 'sse-express', label: '@sse/express', module: './sse-express.ts', kind: 'sse' },
  { name: 'sse-koa', label: '@sse/koa', module: './sse-koa.ts', kind: 'sse' },
  { name: 'sse-fastify', label: '@sse/fastify', module: './sse-fastify.ts', kind: 'sse' },
  { name: 'sse-hono', label: '@sse/hono', module: './sse-hono.ts', kind: 'sse' },
  { name: 'better-sse', label: 'better-sse 0.16', module: './better-sse.ts', kind: 'peer' },
  { name: 'hono-streamsse', label: 'Hono streamSSE', module: './hono-streamsse.ts', kind: 'peer' },
  { name: 'express-handwritten', label: 'Express, hand-written', module: './express-handwritten.ts', kind: 'baseline' },
  { name: 'sse-redis', label: '@sse/node × 2 + @sse/redis', module: './sse-redis.ts', kind: 'cluster', instances: 2, redis: true, fanoutOnly: true },
];

/** The contender all ratios are computed against. */
export const BASELINE = 'raw';

export function findContender(name: string): ContenderInfo {
  const found = CONTENDERS.find((contender) => contender.name === name);
  if (found === undefined) {
    throw new Error(`unknown contender "${name}"; known: ${CONTENDERS.map((contender) => contender.name).join(', ')}`);
  }
  return found;
}
