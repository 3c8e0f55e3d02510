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
}

export const DEFAULT_PORT = 3000;
export const DEFAULT_TICK_MS = 2000;
export const DEFAULT_PRIVATE_TOKEN = 'demo-token';

/** Reads and checks the environment; a bad value stops the app with a message that says which and why. */
export function readConfig(env: Record<string, string | undefined> = process.env): DemoConfig {
  const redisUrl = readRedisUrl(env);
  return {
    port: readInteger(env, 'PORT', DEFAULT_PORT, 0, 65_535),
    tickMs: readInteger(env, 'TICK_MS', DEFAULT_TICK_MS, 10, 3_600_000),
    privateToken: readToken(env),
    ...(redisUrl === undefined ? {} : { redisUrl }),
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

/** A Redis URL safe to print: without its user name and password. */
export function describeRedisUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}
