/** What the apps read from the environment. */
export interface DemoConfig {
  /** `PORT`: where the server listens; `0` picks a free port. Defaults to `3000`. */
  port: number;
  /** `TICK_MS`: how often the clock and the metrics are sent, in ms. Defaults to `2000`. */
  tickMs: number;
  /** `PRIVATE_TOKEN`: the token `/private` asks for. Defaults to `demo-token` (a demo, not a secret). */
  privateToken: string;
  /**
   * `REDIS_URL`: when set, the chat's history and fan-out go through this Redis, so several
   * instances share one chat. Defaults to none: the chat lives in this process's memory.
   */
  redisUrl?: string;
  /**
   * `REDIS_CLUSTER_NODES`: comma-separated `host:port` seeds of a Redis Cluster; when set, the
   * rooms go through it (the chat stays on `REDIS_URL`, or in memory: its store is single-node).
   * Defaults to none: the rooms use `REDIS_URL` when set, else this process's memory.
   */
  redisClusterNodes?: string[];
}

export const DEFAULT_PORT = 3000;
export const DEFAULT_TICK_MS = 2000;
export const DEFAULT_PRIVATE_TOKEN = 'demo-token';

/** Reads and checks the environment; a bad value stops the app with a message that says which and why. */
export function readConfig(env: Record<string, string | undefined> = process.env): DemoConfig {
  const redisUrl = readRedisUrl(env);
  const redisClusterNodes = readRedisClusterNodes(env);
  return {
    port: readInteger(env, 'PORT', DEFAULT_PORT, 0, 65_535),
    tickMs: readInteger(env, 'TICK_MS', DEFAULT_TICK_MS, 10, 3_600_000),
    privateToken: readToken(env),
    ...(redisUrl === undefined ? {} : { redisUrl }),
    ...(redisClusterNodes === undefined ? {} : { redisClusterNodes }),
  };
}

function readInteger(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function readToken(env: Record<string, string | undefined>): string {
  const token = env.PRIVATE_TOKEN ?? DEFAULT_PRIVATE_TOKEN;
  // The token travels in a URL and a header: keep it to characters both carry unchanged.
  if (!/^[\w.~-]{1,200}$/.test(token)) {
    throw new Error('PRIVATE_TOKEN must be 1 to 200 letters, digits or . _ ~ -');
  }
  return token;
}

function readRedisUrl(env: Record<string, string | undefined>): string | undefined {
  const raw = env.REDIS_URL?.trim();
  if (raw === undefined || raw === '') return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(raw).protocol;
  } catch {
    // Reported below, without echoing a URL that may hold a password.
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new Error('REDIS_URL must be a Redis URL such as redis://127.0.0.1:6379 (or rediss:// for TLS)');
  }
  return raw;
}

/** Most seeds `REDIS_CLUSTER_NODES` may list (a client needs one that answers; the cluster tells it the rest). */
const MAX_CLUSTER_SEEDS = 64;

/** `host:port`: a host name, an IPv4 address or a bracketed IPv6 address, and a port from 1 to 65535. */
const SEED = /^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?):(\d{1,5})$/i;

/** Reads `REDIS_CLUSTER_NODES` (`host:port,host:port,…`): the seeds, repeats removed, or a message that names the bad one. */
export function readRedisClusterNodes(env: Record<string, string | undefined> = process.env): string[] | undefined {
  const raw = env.REDIS_CLUSTER_NODES?.trim();
  if (raw === undefined || raw === '') return undefined;
  const seeds = [...new Set(raw.split(',').map((seed) => seed.trim()))];
  for (const seed of seeds) {
    const port = SEED.exec(seed)?.[1];
    if (port === undefined || Number(port) < 1 || Number(port) > 65_535) {
      throw new Error(
        `REDIS_CLUSTER_NODES must be comma-separated host:port seeds of a Redis Cluster, such as 127.0.0.1:7000,127.0.0.1:7001; ${JSON.stringify(seed.slice(0, 60))} is not one`,
      );
    }
  }
  if (seeds.length > MAX_CLUSTER_SEEDS) throw new Error(`REDIS_CLUSTER_NODES lists ${seeds.length} seeds; at most ${MAX_CLUSTER_SEEDS} (a few are enough)`);
  return seeds;
}

/** A Redis URL safe to print: without its user name and password. */
export function describeRedisUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}
