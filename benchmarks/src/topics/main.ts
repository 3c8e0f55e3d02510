/**
 * `pnpm bench:topics`: what topics cost. Memory per idle topic and a churn of 1,000,000 topics
 * in the in-memory store (each round a fresh process with --expose-gc), and fan-out across two
 * instances on a Redis Cluster through @sse/redis's topic store. Prints markdown tables
 * (medians over the rounds) and writes them with every sample to benchmarks/results/.
 *
 *   pnpm bench:topics                          # from the repository root: builds @sse, then 3 rounds of everything
 *   pnpm bench:topics -- --rounds=1 --only=memory,churn
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleBuilds } from '../build-check.js';
import { median } from '../stats.js';
import { runFanout, type FanoutSample } from './fanout.js';

const PARTS = ['memory', 'churn', 'fanout'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `pnpm bench:topics [-- options]
  --rounds=N          rounds of each part, medians reported (default 3)
  --only=a,b          parts: ${PARTS.join(', ')} (default all)
  --memory-topics=N   topics of the memory part (default 100000)
  --churn-topics=N    topics churned through one process (default 1000000)
  --fanout-events=N   events published per fan-out measurement (default 20000)
  --source            load @sse from its TypeScript sources instead of dist`;

function option(args: string[], name: string, fallback: number): number {
  const raw = args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`--${name} must be a positive whole number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

const args = process.argv.slice(2).filter((arg) => arg !== '--');
if (args.includes('--help')) {
  console.log(USAGE);
  process.exit(0);
}
const rounds = option(args, 'rounds', 3);
const memoryTopics = option(args, 'memory-topics', 100_000);
const churnTopics = option(args, 'churn-topics', 1_000_000);
const fanoutEvents = option(args, 'fanout-events', 20_000);
const source = args.includes('--source');
const onlyArg = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const parts: Part[] = onlyArg === undefined ? [...PARTS] : (onlyArg.split(',') as Part[]);
for (const part of parts) if (!PARTS.includes(part)) throw new Error(`--only takes ${PARTS.join(', ')}; got ${part}`);
const known = ['--rounds=', '--only=', '--memory-topics=', '--churn-topics=', '--fanout-events=', '--source'];
const unknown = args.find((arg) => !known.some((prefix) => arg.startsWith(prefix)));
if (unknown !== undefined) throw new Error(`unknown option ${unknown}\n${USAGE}`);

const buildProblems = source ? [] : staleBuilds();
if (buildProblems.some((problem) => problem.endsWith('not built'))) {
  console.error(`bench:topics: ${buildProblems.join('; ')}.\nRun \`pnpm bench:topics\` from the repository root (it builds first), or pass --source.`);
  process.exit(1);
}
if (buildProblems.length > 0) console.error(`bench:topics: warning: ${buildProblems.join('; ')}: measuring the build as it is.`);
const execArgv = ['--expose-gc', ...(source ? ['--conditions=@sse/source'] : [])];
const log = (line: string): void => console.error(`bench:topics: ${line}`);

/** Runs one part's script in a fresh process and returns what it reported. */
function runChild<T>(script: string, env: Record<string, string>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, '--import', 'tsx', fileURLToPath(new URL(script, import.meta.url))], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.on('exit', (code) => {
      const line = output.split('\n').find((each) => each.startsWith('RESULT '));
      if (code !== 0 || line === undefined) reject(new Error(`${script} exited with code ${code}:\n${output}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as T);
    });
  });
}

interface MemorySample {
  topics: number;
  history1: { bytesPerTopic: number; historyBytesPerTopic: number };
  history10: { bytesPerTopic: number; historyBytesPerTopic: number };
  subscribedBytesPerTopic: number;
  freedBytesPerTopic: number;
  storeTopicsLeft: number;
  hubTopicsLeft: number;
  timersLeft: number;
}

interface Leftovers {
  storeTopics: number;
  hubTopics: number;
  hubStreams: number;
  storeListeners: number;
  timers: number;
}

interface ChurnSample {
  topics: number;
  churnMs: number;
  topicsPerSecond: number;
  heapBefore: number;
  heapDuring: number[];
  heapAfterChurn: number;
  heapAfterRetention: number;
  heapAfterSecondPass: number;
  maxStoreTopics: number;
  atEnd: Leftovers;
  afterRetention: Leftovers & { abortListeners: number };
  eventsWritten: number;
}

const memory: MemorySample[] = [];
const churn: ChurnSample[] = [];
const fanout: FanoutSample[] = [];
const startedAt = new Date().toISOString();

for (let round = 1; round <= rounds; round++) {
  if (parts.includes('memory')) {
    log(`round ${round}/${rounds}: memory per topic (${memoryTopics} topics)`);
    memory.push(await runChild<MemorySample>('./memory.ts', { TOPICS: String(memoryTopics) }));
  }
  if (parts.includes('churn')) {
    log(`round ${round}/${rounds}: churn of ${churnTopics} topics`);
    churn.push(await runChild<ChurnSample>('./churn.ts', { TOPICS: String(churnTopics) }));
  }
}
if (parts.includes('fanout')) {
  log('starting a Redis Cluster (3 masters, 3 replicas)');
  // Loaded only here: the other parts need no Redis (and, with --source, no build of @sse/redis).
  const { startRedisCluster } = await import('@sse/redis/testing');
  const cluster = await startRedisCluster();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const topics of [10, 10_000]) {
        log(`round ${round}/${rounds}: fan-out, ${topics} topics, ${fanoutEvents} events, two instances`);
        fanout.push(await runFanout(cluster, { topics, events: fanoutEvents, round, execArgv }));
      }
    }
  } finally {
    await cluster.stop();
  }
}

const med = <T>(samples: T[], pick: (sample: T) => number): number => median(samples.map(pick));
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KB`;
const mib = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MiB`;
const n = (value: number): string => Math.round(value).toLocaleString('en-US');
const lines: string[] = [`# Topics (${rounds} round${rounds === 1 ? '' : 's'}, medians; Node ${process.version}, @sse from ${source ? 'source' : 'dist'})`, ''];

if (memory.length > 0) {
  lines.push(
    `## Memory per idle topic (in-memory store, ${n(memory[0]!.topics)} topics)`,
    '',
    '| topic | heap per topic |',
    '|---|---:|',
    `| 1 event of history, no stream | ${n(med(memory, (s) => s.history1.bytesPerTopic))} B (history ${n(med(memory, (s) => s.history1.historyBytesPerTopic))} encoded bytes) |`,
    `| 10 events of history, no stream | ${n(med(memory, (s) => s.history10.bytesPerTopic))} B (history ${n(med(memory, (s) => s.history10.historyBytesPerTopic))} encoded bytes) |`,
    `| subscribed by a stream (32 topics per stream), no event | ${n(med(memory, (s) => s.subscribedBytesPerTopic))} B |`,
    `| freed (history aged out, streams closed) | ${med(memory, (s) => s.freedBytesPerTopic).toFixed(1)} B; left: ${med(memory, (s) => s.storeTopicsLeft)} store topics, ${med(memory, (s) => s.hubTopicsLeft)} hub topics, ${med(memory, (s) => s.timersLeft)} timers |`,
    '',
  );
}
if (churn.length > 0) {
  const left = (pick: (sample: ChurnSample) => Leftovers): string =>
    `${med(churn, (s) => pick(s).storeTopics)} store topics, ${med(churn, (s) => pick(s).hubTopics)} hub topics, ${med(churn, (s) => pick(s).hubStreams)} streams, ${med(churn, (s) => pick(s).storeListeners)} store listeners, ${med(churn, (s) => pick(s).timers)} timers`;
  lines.push(
    `## ${n(churn[0]!.topics)} topics churned through one process`,
    '',
    'Streams of 4 topics each (keep-alive on), 1,000 at a time: join, one event per topic, leave; history kept 2 s, and the epoch of an unused topic 2 s more (`maxIdleTopics` at its default, 100,000). Heap after a full GC.',
    '',
    '| measure | value |',
    '|---|---:|',
    `| heap before | ${mib(med(churn, (s) => s.heapBefore))} |`,
    `| heap during the first pass (every 250,000 topics) | ${churn[0]!.heapDuring.map((_, i) => mib(med(churn, (s) => s.heapDuring[i] ?? Number.NaN))).join(', ')} |`,
    `| heap right after | ${mib(med(churn, (s) => s.heapAfterChurn))} (most topics kept for resumers: ${n(med(churn, (s) => s.maxStoreTopics))}) |`,
    `| heap once history and retention passed | ${mib(med(churn, (s) => s.heapAfterRetention))} (${kb(med(churn, (s) => s.heapAfterRetention - s.heapBefore))} above before) |`,
    `| heap after a second pass of as many new topics | ${mib(med(churn, (s) => s.heapAfterSecondPass))} (${kb(med(churn, (s) => s.heapAfterSecondPass - s.heapAfterRetention))} above the first pass) |`,
    `| left right after | ${left((s) => s.atEnd)} |`,
    `| left at the end (both passes) | ${left((s) => s.afterRetention)}, ${med(churn, (s) => s.afterRetention.abortListeners)} abort listeners on sampled streams |`,
    `| topics per second (first pass) | ${n(med(churn, (s) => s.topicsPerSecond))} |`,
    '',
  );
}
if (fanout.length > 0) {
  lines.push(
    `## Fan-out across two instances on a Redis Cluster (3 masters, 3 replicas), ${n(fanoutEvents)} events`,
    '',
    'One stream per topic on each instance; the first instance publishes, spread over every topic (256 in flight).',
    '',
    '| topics | events/s (on both instances) | join every topic | Redis connections, A / B (every round) | after the burst, A / B | bytes read from Redis per event, A / B |',
    '|---:|---:|---:|---:|---:|---:|',
  );
  for (const topics of [10, 10_000]) {
    const samples = fanout.filter((s) => s.topics === topics);
    const perInstance = (pick: (instance: FanoutSample['instances'][number]) => number): string =>
      [0, 1].map((i) => n(med(samples, (s) => pick(s.instances[i]!)))).join(' / ');
    // Connections are a count, not a speed: every round's, lowest to highest, rather than a median.
    const range = (pick: (instance: FanoutSample['instances'][number]) => number): string =>
      [0, 1]
        .map((i) => {
          const values = samples.map((s) => pick(s.instances[i]!));
          const [low, high] = [Math.min(...values), Math.max(...values)];
          return low === high ? String(low) : `${low}–${high}`;
        })
        .join(' / ');
    lines.push(
      `| ${n(topics)} | ${n(med(samples, (s) => s.eventsPerSecond))} | ${n(med(samples, (s) => s.subscribeMs))} ms | ${range((i) => i.connections)} | ${range((i) => i.connectionsAfter)} | ${perInstance((i) => i.bytesReadPerEvent)} |`,
    );
  }
  lines.push('');
}

const markdown = lines.join('\n');
const dir = fileURLToPath(new URL('../../results', import.meta.url));
mkdirSync(dir, { recursive: true });
const stamp = startedAt.replace(/[:.]/g, '-');
writeFileSync(join(dir, `topics-${stamp}.json`), `${JSON.stringify({ startedAt, rounds, memory, churn, fanout, buildWarnings: buildProblems }, null, 2)}\n`);
writeFileSync(join(dir, `topics-${stamp}.md`), `${markdown}\n`);
console.log(markdown);
log(`results in ${dir}`);
