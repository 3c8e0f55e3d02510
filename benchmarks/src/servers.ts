/**
 * The server side of one measurement: a contender's server processes (one per instance) and,
 * for a contender on a shared store, the throwaway Redis they share.
 */
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@sse/redis/testing';
import { findContender } from './contenders/index.js';
import { RpcChild } from './rpc.js';
import { underCallgrind } from './counts.js';
import type { BurstResult, MemoryReading, WindowReading } from './server.js';

export interface ServerOptions {
  source: boolean;
  profileDir: string | undefined;
  /** Start the contender with `drain` (a stream registry, for `closeAll`). */
  drain?: boolean;
  /** Raise the open-files limit of the server processes to this (`prlimit`). */
  nofile?: number;
  /** Run the server processes under `valgrind --tool=callgrind`, writing into this folder: readings then count instructions. */
  callgrindDir?: string;
}

export interface CpuReading {
  /** User + system CPU of every server process since the burst started, µs. */
  servers: number;
  /** Write system calls, bytes written and (under callgrind) instructions of every server process in the same window. */
  writeSyscalls: number;
  bytesWritten: number;
  instructions: number;
  /** The same for redis-server, every thread of it (`INFO cpu`); `undefined` without Redis. */
  redis: number | undefined;
}

/** `used_cpu_sys` + `used_cpu_user` of redis-server, µs. Its children (forks for snapshots) are left out; this Redis never forks. */
async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info);
    if (match === null) throw new Error(`redis-server INFO cpu has no ${name}`);
    return Number(match[1]) * 1e6;
  };
  return field('used_cpu_sys') + field('used_cpu_user');
}

export class ContenderServers {
  readonly #instances: RpcChild[];
  readonly #redisServer: RedisServer | undefined;
  readonly #redis: Redis | undefined;
  #redisCpuAtBurst = 0;

  private constructor(instances: RpcChild[], redisServer?: RedisServer, redis?: Redis) {
    this.#instances = instances;
    this.#redisServer = redisServer;
    this.#redis = redis;
  }

  /** Starts Redis first when the contender needs it, then every instance. */
  static async start(contender: string, options: ServerOptions): Promise<ContenderServers> {
    const info = findContender(contender);
    const env: Record<string, string> = {};
    if (options.profileDir !== undefined) env['BENCH_PROFILE_DIR'] = options.profileDir;
    if (options.drain === true) env['BENCH_DRAIN'] = '1';
    let wrapper: string[] = [];
    if (options.callgrindDir !== undefined) {
      const callgrind = underCallgrind(options.callgrindDir, contender);
      wrapper = callgrind.wrapper;
      Object.assign(env, callgrind.env);
    }
    let redisServer: RedisServer | undefined;
    let redis: Redis | undefined;
    if (info.redis === true) {
      redisServer = await startRedisServer();
      env['BENCH_REDIS_URL'] = redisServer.url;
      // The harness's own connection, for INFO only; it must not retry forever once Redis stops.
      redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
      redis.on('error', () => undefined);
    }
    const count = info.instances ?? 1;
    const instances = Array.from(
      { length: count },
      (_, index) => new RpcChild(count === 1 ? `server ${contender}` : `server ${contender} #${index + 1}`, 'server', [contender], {
          source: options.source, env, wrapper, ...(options.nofile === undefined ? {} : { nofile: options.nofile }),
        }),
    );
    return new ContenderServers(instances, redisServer, redis);
  }

  /** The first instance: broadcasts go to it alone. */
  get #primary(): RpcChild {
    return this.#instances[0]!;
  }

  /** Every instance's ports, in instance order: clients (spread in turn) alternate between instances. */
  async ports(): Promise<number[]> {
    const perInstance = await Promise.all(this.#instances.map((instance) => instance.call<number[]>('ports')));
    return perInstance.flat();
  }

  /** Open connections over every instance. */
  async connections(): Promise<number> {
    const counts = await Promise.all(this.#instances.map((instance) => instance.call<number>('connections')));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** Memory summed over every instance, each after a full GC. */
  async memory(): Promise<MemoryReading> {
    const readings = await Promise.all(this.#instances.map((instance) => instance.call<MemoryReading>('memory')));
    const sum = (key: keyof MemoryReading): number => readings.reduce((total, reading) => total + reading[key], 0);
    return { rss: sum('rss'), newSpace: sum('newSpace'), heapUsed: sum('heapUsed'), external: sum('external'), arrayBuffers: sum('arrayBuffers') };
  }

  /** Starts every instance's CPU window, then the burst on the first one. */
  async burst(count: number, timeoutMs: number): Promise<BurstResult> {
    await Promise.all(this.#instances.slice(1).map((instance) => instance.call('startCpuWindow')));
    if (this.#redis !== undefined) this.#redisCpuAtBurst = await redisCpuMicros(this.#redis);
    return this.#primary.call<BurstResult>('burst', { count }, timeoutMs);
  }

  /** CPU since the burst started. */
  async cpu(): Promise<CpuReading> {
    const [readings, redis] = await Promise.all([
      Promise.all(this.#instances.map((instance) => instance.call<WindowReading>('cpu'))),
      this.#redis === undefined ? undefined : redisCpuMicros(this.#redis).then((micros) => micros - this.#redisCpuAtBurst),
    ]);
    const sum = (key: keyof WindowReading): number => readings.reduce((total, reading) => total + reading[key], 0);
    return { servers: sum('cpuMicros'), writeSyscalls: sum('writeSyscalls'), bytesWritten: sum('bytesWritten'), instructions: sum('instructions'), redis };
  }

  /** A command of the first instance (`once`, `closeAll`, `loopDelay`, `writePaths`, `topicBurst`). */
  call<T>(command: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    return this.#primary.call<T>(command, args, timeoutMs);
  }

  paced(count: number, intervalMs: number, timeoutMs: number): Promise<unknown> {
    return this.#primary.call('paced', { count, intervalMs }, timeoutMs);
  }

  slow<T>(args: { count: number; yieldEvery: number }, timeoutMs: number): Promise<T> {
    if (this.#instances.length > 1) throw new Error('the slow-consumer scenario runs on one instance');
    return this.#primary.call<T>('slow', args, timeoutMs);
  }

  /** Ends every instance, then Redis. */
  async kill(): Promise<void> {
    await Promise.all(this.#instances.map((instance) => instance.kill()));
    this.#redis?.disconnect();
    await this.#redisServer?.stop();
  }
}

/**
 * Whether the contenders that need Redis can have it: `undefined` when redis-server starts,
 * else why not (the message of `startRedisServer`, which says how to install it).
 */
export async function redisUnavailable(): Promise<string | undefined> {
  try {
    const server = await startRedisServer();
    await server.stop();
    return undefined;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split('\n')[0];
  }
}
