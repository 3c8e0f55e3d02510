import { resolve } from 'node:path';
import { CONTENDERS } from './contenders/index.js';
import { ENCODERS } from './encoders.js';

export type Scenario = 'fanout' | 'slow' | 'encode';
export const SCENARIOS: readonly Scenario[] = ['fanout', 'slow', 'encode'];

export interface BenchConfig {
  /** Name of the preset, for the report. */
  preset: 'full' | 'quick' | 'smoke';
  /** Load @sse from its TypeScript sources instead of its build (memory figures are then inflated). */
  source: boolean;
  /** Writes a V8 CPU profile of each server's throughput burst into this folder. */
  profileDir?: string;
  /** Rounds; in each, every contender runs once (order rotated), and tables show medians over rounds. */
  runs: number;
  contenders: string[];
  scenarios: Scenario[];
  fanout: {
    /** Connected clients per fan-out run. */
    clients: number[];
    /** Deliveries (clients × events) per throughput run; events = deliveries / clients. */
    deliveries: number;
    minEvents: number;
    /** Events sent (and awaited) before the measured burst, to warm the JIT. */
    warmupDeliveries: number;
    /** Paced latency run: events, `intervalMs` apart. */
    latencyEvents: number;
    latencyIntervalMs: number;
    timeoutMs: number;
  };
  slow: {
    /** ~1 KB events broadcast while one client never reads. */
    events: number;
    /** Events per turn of the server's event loop. */
    yieldEvery: number;
    /** Clients that read normally next to the stalled one. */
    healthyClients: number;
    timeoutMs: number;
  };
  encode: { encoders: string[]; durationMs: number };
}

const ALL_CONTENDERS = CONTENDERS.map((contender) => contender.name);
const ALL_ENCODERS = ENCODERS.map((encoder) => encoder.name);

export const PRESETS: Record<BenchConfig['preset'], BenchConfig> = {
  full: {
    preset: 'full',
    source: false,
    runs: 5,
    contenders: ALL_CONTENDERS,
    scenarios: [...SCENARIOS],
    fanout: { clients: [100, 1000, 5000], deliveries: 150_000, minEvents: 20, warmupDeliveries: 20_000, latencyEvents: 10, latencyIntervalMs: 100, timeoutMs: 60_000 },
    slow: { events: 200_000, yieldEvery: 100, healthyClients: 1, timeoutMs: 60_000 },
    encode: { encoders: ALL_ENCODERS, durationMs: 500 },
  },
  quick: {
    preset: 'quick',
    source: false,
    runs: 3,
    contenders: ALL_CONTENDERS,
    scenarios: [...SCENARIOS],
    fanout: { clients: [100, 1000], deliveries: 50_000, minEvents: 20, warmupDeliveries: 5_000, latencyEvents: 5, latencyIntervalMs: 100, timeoutMs: 30_000 },
    slow: { events: 20_000, yieldEvery: 100, healthyClients: 1, timeoutMs: 30_000 },
    encode: { encoders: ALL_ENCODERS, durationMs: 300 },
  },
  smoke: {
    preset: 'smoke',
    source: true,
    runs: 1,
    contenders: ALL_CONTENDERS,
    scenarios: [...SCENARIOS],
    fanout: { clients: [20], deliveries: 200, minEvents: 10, warmupDeliveries: 40, latencyEvents: 3, latencyIntervalMs: 20, timeoutMs: 20_000 },
    slow: { events: 2_000, yieldEvery: 100, healthyClients: 1, timeoutMs: 20_000 },
    encode: { encoders: ALL_ENCODERS, durationMs: 30 },
  },
};

function list(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

function numbers(value: string, name: string): number[] {
  const parsed = list(value).map(Number);
  if (parsed.length === 0 || parsed.some((n) => !Number.isSafeInteger(n) || n <= 0)) throw new Error(`${name} takes positive integers, got "${value}"`);
  return parsed;
}

function oneOf(values: string[], known: readonly string[], name: string): string[] {
  for (const value of values) if (!known.includes(value)) throw new Error(`unknown ${name} "${value}"; known: ${known.join(', ')}`);
  return values;
}

export const USAGE = `Usage: pnpm bench [-- options]   (or: pnpm --filter @sse-bench/harness bench [options])

  --quick              3 runs, 100 and 1,000 clients, 20,000 slow-consumer events (a few minutes)
  --smoke              1 tiny run of everything: checks the harness, measures nothing
  --source             load @sse from TypeScript source (no build needed; memory figures inflated)
  --runs=N             rounds (default 5); tables show medians over rounds
  --only=a,b           contenders (${ALL_CONTENDERS.join(', ')});
                       sse-redis (fan-out only) starts its own redis-server and is skipped, with a message, without one
  --scenarios=a,b      ${SCENARIOS.join(', ')}
  --clients=100,1000   fan-out client counts
  --encoders=a,b       ${ALL_ENCODERS.join(', ')}
  --profile=DIR        write a CPU profile of each server during each throughput burst into DIR
  --out=DIR            where results go (default: benchmarks/results)

The same settings as environment variables: BENCH_QUICK=1, BENCH_SMOKE=1, BENCH_SOURCE=1, BENCH_RUNS, BENCH_ONLY,
BENCH_SCENARIOS, BENCH_CLIENTS, BENCH_ENCODERS, BENCH_PROFILE, BENCH_OUT.`;

export interface CliOptions {
  config: BenchConfig;
  outDir: string | undefined;
}

/** Reads flags (`--runs=3`) and their environment equivalents (`BENCH_RUNS=3`); flags win. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions {
  const flags = new Map<string, string>();
  for (const key of ['quick', 'smoke', 'source', 'profile', 'runs', 'only', 'scenarios', 'clients', 'encoders', 'out']) {
    const value = env[`BENCH_${key.toUpperCase()}`];
    if (value !== undefined && value !== '') flags.set(key, value);
  }
  for (const arg of argv) {
    if (arg === '--') continue;
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new Error(`unknown argument "${arg}"\n\n${USAGE}`);
    flags.set(match[1]!, match[2] ?? '1');
  }
  const preset = flags.get('smoke') === '1' ? 'smoke' : flags.get('quick') === '1' ? 'quick' : 'full';
  const base = PRESETS[preset];
  const config: BenchConfig = structuredClone(base);
  for (const [key, value] of flags) {
    switch (key) {
      case 'quick':
      case 'smoke':
      case 'out':
      case 'help':
        break;
      case 'source':
        config.source = value !== '0';
        break;
      case 'profile':
        config.profileDir = resolve(value);
        break;
      case 'runs':
        config.runs = numbers(value, '--runs')[0]!;
        break;
      case 'only':
        config.contenders = oneOf(list(value), ALL_CONTENDERS, 'contender');
        break;
      case 'scenarios':
        config.scenarios = oneOf(list(value), SCENARIOS, 'scenario') as Scenario[];
        break;
      case 'clients':
        config.fanout.clients = numbers(value, '--clients');
        break;
      case 'encoders':
        config.encode.encoders = oneOf(list(value), ALL_ENCODERS, 'encoder');
        break;
      default:
        throw new Error(`unknown option "${key}"\n\n${USAGE}`);
    }
  }
  return { config, outDir: flags.get('out') };
}
