import { resolve } from 'node:path';
import { DEFAULT_CONTENDERS } from './contenders/index.js';
import { ENCODERS } from './encoders.js';

export type Scenario = 'fanout' | 'slow' | 'block' | 'topics' | 'encode' | 'scale';
export const SCENARIOS: readonly Scenario[] = ['fanout', 'slow', 'block', 'topics', 'encode', 'scale'];
/** What `pnpm bench` runs unless told otherwise: all but `scale` (`pnpm bench:scale`). */
const DEFAULT_SCENARIOS: Scenario[] = ['fanout', 'slow', 'block', 'topics', 'encode'];

export interface BenchConfig {
  /** Name of the preset, for the report. */
  preset: 'full' | 'quick' | 'smoke' | 'scale';
  /** Load @sse from its TypeScript sources instead of its build (memory figures are then inflated). */
  source: boolean;
  /** Writes a V8 CPU profile of each server's throughput burst into this folder. */
  profileDir?: string;
  /**
   * Runs every server under `valgrind --tool=callgrind`, its output in this folder: fan-out and
   * topic samples then count user-space instructions per delivery. Timings are meaningless then.
   */
  callgrindDir?: string;
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
  encode: {
    encoders: string[];
    durationMs: number;
    /** Frames whose instructions are counted under callgrind (after as many unmeasured). */
    countedFrames: number;
  };
  block: {
    /** Clients that get the one event. */
    clients: number;
    /** Contenders of this scenario, of those that run; `undefined`: all (but clusters). */
    contenders?: string[];
    timeoutMs: number;
  };
  topics: {
    /** Clients: one per topic (10,000 topics), then all on one topic. */
    clients: number;
    /** Deliveries per throughput run, as in fan-out; events per topic = deliveries / clients. */
    deliveries: number;
    minEvents: number;
    warmupEvents: number;
    timeoutMs: number;
  };
  scale: {
    /** Idle connections held on one @sse/node server. */
    clients: number;
    /** The same measurement for each of `contenders`, at this many connections. */
    compareClients: number;
    contenders: string[];
    /** Client processes; connections are spread over them and over 127.0.0.2–127.0.0.9. */
    clientProcesses: number;
    timeoutMs: number;
  };
}

const ALL_CONTENDERS = DEFAULT_CONTENDERS.map((contender) => contender.name);
const SCALE_CONTENDERS = ['raw', 'floor', 'sse-node', 'sse-express', 'sse-koa', 'sse-fastify', 'sse-hono'];
const ALL_ENCODERS = ENCODERS.map((encoder) => encoder.name);

export const PRESETS: Record<BenchConfig['preset'], BenchConfig> = {
  full: {
    preset: 'full',
    source: false,
    runs: 5,
    contenders: ALL_CONTENDERS,
    scenarios: [...DEFAULT_SCENARIOS],
    fanout: { clients: [100, 1000, 5000], deliveries: 150_000, minEvents: 20, warmupDeliveries: 20_000, latencyEvents: 10, latencyIntervalMs: 100, timeoutMs: 60_000 },
    slow: { events: 200_000, yieldEvery: 100, healthyClients: 1, timeoutMs: 60_000 },
    encode: { encoders: ALL_ENCODERS, durationMs: 500, countedFrames: 100_000 },
    block: { clients: 10_000, timeoutMs: 60_000 },
    topics: { clients: 10_000, deliveries: 150_000, minEvents: 10, warmupEvents: 2, timeoutMs: 60_000 },
    scale: { clients: 50_000, compareClients: 10_000, contenders: SCALE_CONTENDERS, clientProcesses: 4, timeoutMs: 180_000 },
  },
  quick: {
    preset: 'quick',
    source: false,
    runs: 3,
    contenders: ALL_CONTENDERS,
    scenarios: [...DEFAULT_SCENARIOS],
    fanout: { clients: [100, 1000], deliveries: 50_000, minEvents: 20, warmupDeliveries: 5_000, latencyEvents: 5, latencyIntervalMs: 100, timeoutMs: 30_000 },
    slow: { events: 20_000, yieldEvery: 100, healthyClients: 1, timeoutMs: 30_000 },
    encode: { encoders: ALL_ENCODERS, durationMs: 300, countedFrames: 100_000 },
    block: { clients: 5_000, timeoutMs: 30_000 },
    topics: { clients: 5_000, deliveries: 50_000, minEvents: 5, warmupEvents: 1, timeoutMs: 30_000 },
    scale: { clients: 20_000, compareClients: 5_000, contenders: SCALE_CONTENDERS, clientProcesses: 2, timeoutMs: 120_000 },
  },
  smoke: {
    preset: 'smoke',
    source: true,
    runs: 1,
    contenders: ALL_CONTENDERS,
    scenarios: [...SCENARIOS],
    fanout: { clients: [20], deliveries: 200, minEvents: 10, warmupDeliveries: 40, latencyEvents: 3, latencyIntervalMs: 20, timeoutMs: 20_000 },
    slow: { events: 2_000, yieldEvery: 100, healthyClients: 1, timeoutMs: 20_000 },
    encode: { encoders: ALL_ENCODERS, durationMs: 30, countedFrames: 2_000 },
    // A few contenders only: the self-test proves the scenarios work; fan-out covers every contender.
    block: { clients: 200, contenders: ['raw', 'floor', 'sse-node'], timeoutMs: 20_000 },
    topics: { clients: 200, deliveries: 1_000, minEvents: 3, warmupEvents: 1, timeoutMs: 20_000 },
    scale: { clients: 200, compareClients: 100, contenders: ['floor', 'sse-hono'], clientProcesses: 2, timeoutMs: 20_000 },
  },
  scale: {
    preset: 'scale',
    source: false,
    runs: 1,
    contenders: SCALE_CONTENDERS,
    scenarios: ['scale'],
    fanout: { clients: [1000], deliveries: 150_000, minEvents: 20, warmupDeliveries: 20_000, latencyEvents: 10, latencyIntervalMs: 100, timeoutMs: 60_000 },
    slow: { events: 200_000, yieldEvery: 100, healthyClients: 1, timeoutMs: 60_000 },
    encode: { encoders: ALL_ENCODERS, durationMs: 500, countedFrames: 100_000 },
    block: { clients: 10_000, timeoutMs: 60_000 },
    topics: { clients: 10_000, deliveries: 150_000, minEvents: 10, warmupEvents: 2, timeoutMs: 60_000 },
    scale: { clients: 50_000, compareClients: 10_000, contenders: SCALE_CONTENDERS, clientProcesses: 4, timeoutMs: 180_000 },
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

  --quick              3 runs, 100 and 1,000 clients, 20,000 slow-consumer events, 5,000 for block/topics (a few minutes)
  --smoke              1 tiny run of everything (scale included): checks the harness, measures nothing
  --scale              \`pnpm bench:scale\`: the scale scenario alone, 1 run: 50,000 idle connections on one
                       @sse/node server, then 10,000 on each of ${SCALE_CONTENDERS.join(', ')}
  --source             load @sse from TypeScript source (no build needed; memory figures inflated)
  --runs=N             rounds (default 5); tables show medians over rounds
  --only=a,b           contenders (${ALL_CONTENDERS.join(', ')});
                       sse-redis (fan-out only) starts its own redis-server and is skipped, with a message, without one
  --scenarios=a,b      ${SCENARIOS.join(', ')} (default: all but scale)
  --clients=100,1000   fan-out client counts
  --block-clients=N    block: clients that get the one event (default 10,000)
  --topic-clients=N    topics: topics with one client each, then clients on one topic (default 10,000)
  --scale-clients=N    scale: idle connections on the one @sse/node server (default 50,000; capped by the fd limit)
  --scale-compare=N    scale: connections for each of the other contenders (default 10,000)
  --client-processes=N scale: client processes (default 4)
  --encoders=a,b       ${ALL_ENCODERS.join(', ')}
  --profile=DIR        write a CPU profile of each server during each throughput burst into DIR
  --callgrind=DIR      run each server under valgrind --tool=callgrind (output in DIR) and count its
                       instructions per delivery; timings are then meaningless, timeouts x20
  --deliveries=N       deliveries per fan-out and topics throughput run (default 150,000)
  --out=DIR            where results go (default: benchmarks/results)

The same settings as environment variables: BENCH_QUICK=1, BENCH_SMOKE=1, BENCH_SOURCE=1, BENCH_RUNS, BENCH_ONLY,
BENCH_SCENARIOS, BENCH_CLIENTS, BENCH_ENCODERS, BENCH_PROFILE, BENCH_OUT, BENCH_SCALE=1, BENCH_BLOCK_CLIENTS,
BENCH_TOPIC_CLIENTS, BENCH_SCALE_CLIENTS, BENCH_SCALE_COMPARE, BENCH_CLIENT_PROCESSES.`;

export interface CliOptions {
  config: BenchConfig;
  outDir: string | undefined;
}

/** Reads flags (`--runs=3`) and their environment equivalents (`BENCH_RUNS=3`); flags win. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions {
  const flags = new Map<string, string>();
  for (const key of ['quick', 'smoke', 'scale', 'source', 'profile', 'runs', 'only', 'scenarios', 'clients', 'encoders', 'out', 'block-clients', 'topic-clients', 'scale-clients', 'scale-compare', 'client-processes', 'callgrind', 'deliveries']) {
    const value = env[`BENCH_${key.toUpperCase().replaceAll('-', '_')}`];
    if (value !== undefined && value !== '') flags.set(key, value);
  }
  for (const arg of argv) {
    if (arg === '--') continue;
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new Error(`unknown argument "${arg}"\n\n${USAGE}`);
    flags.set(match[1]!, match[2] ?? '1');
  }
  const preset = flags.get('smoke') === '1' ? 'smoke' : flags.get('quick') === '1' ? 'quick' : flags.get('scale') === '1' ? 'scale' : 'full';
  const base = PRESETS[preset];
  const config: BenchConfig = structuredClone(base);
  for (const [key, value] of flags) {
    switch (key) {
      case 'quick':
      case 'smoke':
      case 'scale':
      case 'out':
      case 'help':
        break;
      case 'source':
        config.source = value !== '0';
        break;
      case 'profile':
        config.profileDir = resolve(value);
        break;
      case 'callgrind':
        config.callgrindDir = resolve(value);
        break;
      case 'deliveries':
        config.fanout.deliveries = numbers(value, '--deliveries')[0]!;
        config.topics.deliveries = config.fanout.deliveries;
        break;
      case 'runs':
        config.runs = numbers(value, '--runs')[0]!;
        break;
      case 'only':
        config.contenders = oneOf(list(value), ALL_CONTENDERS, 'contender');
        config.scale.contenders = config.scale.contenders.filter((name) => config.contenders.includes(name));
        break;
      case 'scenarios':
        config.scenarios = oneOf(list(value), SCENARIOS, 'scenario') as Scenario[];
        break;
      case 'clients':
        config.fanout.clients = numbers(value, '--clients');
        break;
      case 'block-clients':
        config.block.clients = numbers(value, '--block-clients')[0]!;
        break;
      case 'topic-clients':
        config.topics.clients = numbers(value, '--topic-clients')[0]!;
        break;
      case 'scale-clients':
        config.scale.clients = numbers(value, '--scale-clients')[0]!;
        break;
      case 'scale-compare':
        config.scale.compareClients = numbers(value, '--scale-compare')[0]!;
        break;
      case 'client-processes':
        config.scale.clientProcesses = numbers(value, '--client-processes')[0]!;
        break;
      case 'encoders':
        config.encode.encoders = oneOf(list(value), ALL_ENCODERS, 'encoder');
        break;
      default:
        throw new Error(`unknown option "${key}"\n\n${USAGE}`);
    }
  }
  if (config.callgrindDir !== undefined) {
    // Node runs 20 to 50 times slower under valgrind.
    for (const scenario of [config.fanout, config.slow, config.block, config.topics, config.scale]) scenario.timeoutMs *= 20;
  }
  return { config, outDir: flags.get('out') };
}
