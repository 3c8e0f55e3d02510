/**
 * The orchestrator: for each round, every contender runs once (order rotated), each in a fresh
 * server process, with all clients in one separate client process.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectResult, StalledResult, WaitResult } from './client.js';
import { ClientPool } from './clients.js';
import type { BenchConfig } from './config.js';
import { findContender, TOPIC_CONTENDERS } from './contenders/index.js';
import type { WritePaths } from './contenders/types.js';
import type { EncodeResult } from './encode.js';
import { Pinger } from './pinger.js';
import { fdLimit, RpcChild, type FdLimit } from './rpc.js';
import type { BurstResult, CloseAllResult, LoopDelay, MemoryReading, OnceResult } from './server.js';
import { underCallgrind } from './counts.js';
import { ContenderServers, redisUnavailable, type CpuReading, type ServerOptions } from './servers.js';

export interface FanoutSample {
  contender: string;
  clients: number;
  run: number;
  error?: string;
  /** Server processes; clients were spread over them, CPU and memory are their sums. */
  instances: number;
  /** Events per client in the throughput run. */
  events: number;
  /** Every client got every event of the throughput and latency runs, and no more. */
  delivered: boolean;
  deliveriesPerSecond: number;
  /** CPU of the server processes (summed over instances) per delivery, µs. */
  cpuMicrosPerDelivery: number;
  /** redis-server's CPU per delivery over the same window, µs; `NaN` without Redis. */
  redisCpuMicrosPerDelivery: number;
  /** Write system calls and bytes the server processes passed to the kernel per delivery, same window (`/proc/self/io`). */
  writeSyscallsPerDelivery: number;
  bytesPerDelivery: number;
  /** User-space instructions per delivery, same window, with `--callgrind`; else `NaN`. */
  instructionsPerDelivery: number;
  /** RSS growth per idle connection. */
  rssPerConnection: number;
  /** The same without the growth of V8's young generation (see MemoryReading.newSpace). */
  rssWithoutYoungPerConnection: number;
  heapPerConnection: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencySamples: number;
  /** Event-loop delay in the server during the throughput run (one broadcast per turn), ms. */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** Which write path the open responses took (`sinkWritePath`), once all clients were connected; `null` for non-@sse contenders. */
  writePaths: WritePaths | null;
}

/** One event to many clients, with `GET /ping` requests going on: how long the server is blocked. */
export interface BlockSample {
  contender: string;
  clients: number;
  run: number;
  error?: string;
  delivered: boolean;
  /** From the broadcast until every client had the event, ms. */
  deliverMs: number;
  /** How long the `broadcast` call ran, ms. */
  callMs: number;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** `GET /ping` answers that arrived between the broadcast and the last delivery. */
  pingsAnswered: number;
  /** The longest gap between two ping answers around the fan-out (a request's worst wait), ms. */
  longestPingGapMs: number;
  writePaths: WritePaths | null;
}

/** Topics: `many` = one client on each of `clients` topics, `one` = every client on one topic. */
export interface TopicSample {
  contender: string;
  mode: 'many' | 'one';
  clients: number;
  run: number;
  error?: string;
  /** Events per client. */
  events: number;
  delivered: boolean;
  deliveriesPerSecond: number;
  cpuMicrosPerDelivery: number;
  /** As in `FanoutSample`. */
  writeSyscallsPerDelivery: number;
  bytesPerDelivery: number;
  instructionsPerDelivery: number;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
}

/** Idle connections held by one server: memory, one broadcast to all, and a drain. */
export interface ScaleSample {
  contender: string;
  /** Connections held (the fd limit may have capped `requested`). */
  clients: number;
  requested: number;
  run: number;
  error?: string;
  connectSeconds: number;
  rssPerConnection: number;
  heapPerConnection: number;
  /** One broadcast: until every client had it, ms. */
  deliverMs: number;
  callMs: number;
  delivered: boolean;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** `closeAll`: until every client saw the end of its stream, ms; and until `closeAll` resolved. */
  drainMs: number;
  drainResolvedMs: number;
  ended: number;
  drainLoopDelayMaxMs: number;
  writePaths: WritePaths | null;
}

export interface SlowSample {
  contender: string;
  run: number;
  error?: string;
  events: number;
  sendSeconds: number;
  /** Highest RSS while broadcasting, minus RSS before. */
  peakRssGrowth: number;
  /** After a full GC, once the healthy clients had everything: heap + external, minus before. */
  retainedGrowth: number;
  retainedRssGrowth: number;
  /** The server still held the stalled connection at the end. */
  stalledKept: boolean;
  /** Frames the stalled client got once it read again, and whether its stream had ended. */
  stalledFrames: number;
  stalledEnded: boolean;
  /** The reading clients got every event. */
  healthyDelivered: boolean;
}

export interface EncodeSample extends EncodeResult {
  encoder: string;
  run: number;
  error?: string;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  loadBefore: number[];
  loadAfter: number[];
  commit: string;
  /** Files under packages/ that differ from the commit when the run started. */
  uncommitted: number;
  /** Packages whose build was older than their sources. */
  buildWarnings: string[];
  versions: Record<string, string>;
}

export interface SkippedContender {
  contender: string;
  reason: string;
}

export interface BenchResults {
  /** What ran: the configuration asked for, less the skipped contenders. */
  config: BenchConfig;
  /** Contenders left out because what they need is missing (redis-server). */
  skipped: SkippedContender[];
  machine: MachineInfo;
  startedAt: string;
  minutes: number;
  fanout: FanoutSample[];
  slow: SlowSample[];
  block: BlockSample[];
  topics: TopicSample[];
  scale: ScaleSample[];
  /** The open-files limit the scale scenario's processes had, and why not more. */
  fdLimit?: FdLimit;
  encode: EncodeSample[];
}

type Log = (line: string) => void;

function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

function countsPerDelivery(cpu: CpuReading, deliveries: number): Pick<FanoutSample, 'writeSyscallsPerDelivery' | 'bytesPerDelivery' | 'instructionsPerDelivery'> {
  return { writeSyscallsPerDelivery: cpu.writeSyscalls / deliveries, bytesPerDelivery: cpu.bytesWritten / deliveries, instructionsPerDelivery: cpu.instructions / deliveries };
}

function serverOptions(config: BenchConfig): ServerOptions {
  return { source: config.source, profileDir: config.profileDir, ...(config.callgrindDir === undefined ? {} : { callgrindDir: config.callgrindDir }) };
}

async function waitForConnections(server: ContenderServers, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await server.connections()) > count) {
    if (Date.now() > deadline) throw new Error(`the server still holds connections after ${timeoutMs} ms`);
    await sleep(20);
  }
}

async function connectAll(client: RpcChild, ports: number[], count: number, stalled = 0): Promise<void> {
  const result = await client.call<ConnectResult>('connect', { ports, count, stalled }, 120_000);
  if (result.connected !== count) throw new Error(`connected ${result.connected} of ${count}: ${result.failures.join('; ')}`);
}

/** Sends `events` (burst or paced) and waits until every client has them all. */
async function deliver(client: RpcChild, server: ContenderServers, events: number, timeoutMs: number, paced?: { intervalMs: number }): Promise<{ sent?: BurstResult; received: WaitResult }> {
  await client.call('expect', { events, latency: paced !== undefined });
  const sent = paced === undefined ? await server.burst(events, timeoutMs) : undefined;
  if (paced !== undefined) await server.paced(events, paced.intervalMs, timeoutMs);
  const received = await client.call<WaitResult>('wait', { timeoutMs, settleMs: 50 }, timeoutMs + 5_000);
  return sent === undefined ? { received } : { sent, received };
}

function exactly(received: WaitResult, events: number): boolean {
  return received.done && received.closed === 0 && received.minFrames === events && received.maxFrames === events;
}

async function fanoutSession(client: RpcChild, contender: string, clients: number, run: number, config: BenchConfig['fanout'] & ServerOptions): Promise<FanoutSample> {
  const events = Math.max(config.minEvents, Math.round(config.deliveries / clients));
  const sample: FanoutSample = {
    contender, clients, run, instances: findContender(contender).instances ?? 1, events, delivered: false,
    deliveriesPerSecond: Number.NaN, cpuMicrosPerDelivery: Number.NaN, redisCpuMicrosPerDelivery: Number.NaN,
    writeSyscallsPerDelivery: Number.NaN, bytesPerDelivery: Number.NaN, instructionsPerDelivery: Number.NaN,
    rssPerConnection: Number.NaN, rssWithoutYoungPerConnection: Number.NaN, heapPerConnection: Number.NaN,
    latencyP50Ms: Number.NaN, latencyP99Ms: Number.NaN, latencySamples: 0, loopDelayMaxMs: Number.NaN, loopDelayP99Ms: Number.NaN, writePaths: null,
  };
  let server: ContenderServers | undefined;
  try {
    server = await ContenderServers.start(contender, config);
    const ports = await server.ports();
    // A few connections and events first, so that lazily built code and pools are not counted per connection.
    await connectAll(client, ports, 8);
    await deliver(client, server, 5, config.timeoutMs);
    await client.call('closeAll');
    await waitForConnections(server, 0, 10_000);
    const idle = await server.memory();

    await connectAll(client, ports, clients);
    const loaded = await server.memory();
    sample.rssPerConnection = (loaded.rss - idle.rss) / clients;
    sample.rssWithoutYoungPerConnection = (loaded.rss - loaded.newSpace - (idle.rss - idle.newSpace)) / clients;
    sample.heapPerConnection = (loaded.heapUsed - idle.heapUsed) / clients;
    sample.writePaths = await server.call<WritePaths | null>('writePaths');

    const warmupEvents = Math.max(5, Math.round(config.warmupDeliveries / clients));
    await deliver(client, server, warmupEvents, config.timeoutMs);

    const burst = await deliver(client, server, events, config.timeoutMs);
    const cpu = await server.cpu();
    const delay = await server.call<LoopDelay>('loopDelay');
    sample.loopDelayMaxMs = delay.maxMs;
    sample.loopDelayP99Ms = delay.p99Ms;
    const deliveries = clients * events;
    if (burst.received.doneAt !== null && burst.sent !== undefined) {
      sample.deliveriesPerSecond = deliveries / ((burst.received.doneAt - burst.sent.startedAt) / 1e6);
      sample.cpuMicrosPerDelivery = cpu.servers / deliveries;
      if (cpu.redis !== undefined) sample.redisCpuMicrosPerDelivery = cpu.redis / deliveries;
      Object.assign(sample, countsPerDelivery(cpu, deliveries));
    }

    const paced = await deliver(client, server, config.latencyEvents, config.timeoutMs, { intervalMs: config.latencyIntervalMs });
    if (paced.received.latency !== undefined) {
      sample.latencyP50Ms = paced.received.latency.p50 / 1000;
      sample.latencyP99Ms = paced.received.latency.p99 / 1000;
      sample.latencySamples = paced.received.latency.samples;
    }
    sample.delivered = exactly(burst.received, events) && exactly(paced.received, config.latencyEvents) && sample.latencySamples === clients * config.latencyEvents;
    if (!sample.delivered) {
      sample.error = `incomplete delivery: burst ${burst.received.minFrames}..${burst.received.maxFrames} of ${events} (closed ${burst.received.closed}), paced ${paced.received.minFrames}..${paced.received.maxFrames} of ${config.latencyEvents}`;
    }
  } catch (error) {
    sample.error = message(error);
  } finally {
    await client.call('closeAll').catch(() => undefined);
    await server?.kill();
  }
  return sample;
}

async function slowSession(client: RpcChild, contender: string, run: number, config: BenchConfig['slow'] & ServerOptions): Promise<SlowSample> {
  const sample: SlowSample = {
    contender, run, events: config.events, sendSeconds: Number.NaN, peakRssGrowth: Number.NaN, retainedGrowth: Number.NaN, retainedRssGrowth: Number.NaN,
    stalledKept: false, stalledFrames: 0, stalledEnded: false, healthyDelivered: false,
  };
  let server: ContenderServers | undefined;
  try {
    server = await ContenderServers.start(contender, config);
    const ports = await server.ports();
    await connectAll(client, ports, 1 + config.healthyClients, 1);
    await client.call('expect', { events: config.events });
    const sent = await server.slow<{ before: MemoryReading; peakRss: number; seconds: number }>({ count: config.events, yieldEvery: config.yieldEvery }, config.timeoutMs);
    const healthy = await client.call<WaitResult>('wait', { timeoutMs: config.timeoutMs, settleMs: 50 }, config.timeoutMs + 5_000);
    const retained = await server.memory();
    const connections = await server.connections();
    sample.sendSeconds = sent.seconds;
    sample.peakRssGrowth = Math.max(sent.peakRss, retained.rss) - sent.before.rss;
    sample.retainedGrowth = retained.heapUsed + retained.external - (sent.before.heapUsed + sent.before.external);
    sample.retainedRssGrowth = retained.rss - sent.before.rss;
    sample.healthyDelivered = exactly(healthy, config.events);
    sample.stalledKept = connections > config.healthyClients;
    const stalled = await client.call<StalledResult>('resumeStalled', { quietMs: 500, timeoutMs: 5_000 }, 10_000);
    sample.stalledFrames = stalled.frames;
    sample.stalledEnded = stalled.ended;
  } catch (error) {
    sample.error = message(error);
  } finally {
    await client.call('closeAll').catch(() => undefined);
    await server?.kill();
  }
  return sample;
}

/** The longest wait between two ping answers from just before `from` to just after `to`, ms. */
function longestGap(answeredAt: readonly number[], from: number, to: number): number {
  const before = answeredAt.filter((at) => at < from).at(-1) ?? from;
  const after = answeredAt.find((at) => at > to) ?? to;
  const around = [before, ...answeredAt.filter((at) => at >= from && at <= to), after];
  let longest = 0;
  for (let i = 1; i < around.length; i++) longest = Math.max(longest, around[i]! - around[i - 1]!);
  return longest / 1000;
}

async function blockSession(client: RpcChild, contender: string, run: number, config: BenchConfig['block'] & ServerOptions): Promise<BlockSample> {
  const sample: BlockSample = {
    contender, clients: config.clients, run, delivered: false, deliverMs: Number.NaN, callMs: Number.NaN, loopDelayMaxMs: Number.NaN, loopDelayP99Ms: Number.NaN,
    pingsAnswered: 0, longestPingGapMs: Number.NaN, writePaths: null,
  };
  let server: ContenderServers | undefined;
  let pinger: Pinger | undefined;
  const pool = ClientPool.of(client);
  try {
    server = await ContenderServers.start(contender, config);
    const ports = await server.ports();
    await pool.connect({ ports, count: config.clients });
    sample.writePaths = await server.call<WritePaths | null>('writePaths');
    // One event first, so that the measured one runs warm code.
    await pool.expect(1);
    await server.call<OnceResult>('once');
    const warm = await pool.wait(config.timeoutMs, 0);
    if (!warm.done) throw new Error(`the warm-up event reached ${warm.totalFrames} of ${config.clients} clients`);
    pinger = new Pinger(ports[0]!);
    await sleep(200); // the ping connection is open and answering before the broadcast
    await pool.expect(1);
    const sent = await server.call<OnceResult>('once');
    const received = await pool.wait(config.timeoutMs);
    const delay = await server.call<LoopDelay>('loopDelay');
    await sleep(50);
    await pinger.stop();
    sample.delivered = exactly(received, 1);
    sample.callMs = sent.callMs;
    sample.loopDelayMaxMs = delay.maxMs;
    sample.loopDelayP99Ms = delay.p99Ms;
    if (received.doneAt !== null) {
      sample.deliverMs = (received.doneAt - sent.startedAt) / 1000;
      sample.pingsAnswered = pinger.answeredBetween(sent.startedAt, received.doneAt);
      sample.longestPingGapMs = longestGap(pinger.answeredAt, sent.startedAt, received.doneAt);
    }
    if (!sample.delivered) sample.error = `incomplete delivery: ${received.minFrames}..${received.maxFrames} of 1 (closed ${received.closed})`;
  } catch (error) {
    sample.error = message(error);
  } finally {
    await pinger?.stop();
    await client.call('closeAll').catch(() => undefined);
    await server?.kill();
  }
  return sample;
}

async function topicsSession(client: RpcChild, contender: string, run: number, config: BenchConfig['topics'] & ServerOptions): Promise<TopicSample[]> {
  const events = Math.max(config.minEvents, Math.round(config.deliveries / config.clients));
  const samples: TopicSample[] = (['many', 'one'] as const).map((mode) => ({
    contender, mode, clients: config.clients, run, events, delivered: false,
    deliveriesPerSecond: Number.NaN, cpuMicrosPerDelivery: Number.NaN, writeSyscallsPerDelivery: Number.NaN, bytesPerDelivery: Number.NaN, instructionsPerDelivery: Number.NaN, loopDelayMaxMs: Number.NaN, loopDelayP99Ms: Number.NaN,
  }));
  const pool = ClientPool.of(client);
  let server: ContenderServers | undefined;
  try {
    server = await ContenderServers.start(contender, config);
    const ports = await server.ports();
    for (const sample of samples) {
      try {
        // many: client i on topic t<i>, each topic published to; one: everybody on t0.
        const topics = sample.mode === 'many' ? config.clients : 1;
        await pool.connect({ ports, count: config.clients, path: sample.mode === 'many' ? '/events?topic=t{i}' : '/events?topic=t0' });
        await pool.expect(config.warmupEvents);
        await server.call<BurstResult>('topicBurst', { topics, rounds: config.warmupEvents }, config.timeoutMs);
        const warm = await pool.wait(config.timeoutMs, 0);
        if (!warm.done) throw new Error(`the warm-up reached ${warm.minFrames}..${warm.maxFrames} of ${config.warmupEvents} events per client`);
        await pool.expect(events);
        const sent = await server.call<BurstResult>('topicBurst', { topics, rounds: events }, config.timeoutMs);
        const received = await pool.wait(config.timeoutMs);
        const cpu = await server.cpu();
        const delay = await server.call<LoopDelay>('loopDelay');
        const deliveries = config.clients * events;
        if (received.doneAt !== null) {
          sample.deliveriesPerSecond = deliveries / ((received.doneAt - sent.startedAt) / 1e6);
          sample.cpuMicrosPerDelivery = cpu.servers / deliveries;
          Object.assign(sample, countsPerDelivery(cpu, deliveries));
        }
        sample.loopDelayMaxMs = delay.maxMs;
        sample.loopDelayP99Ms = delay.p99Ms;
        sample.delivered = exactly(received, events);
        if (!sample.delivered) sample.error = `incomplete delivery: ${received.minFrames}..${received.maxFrames} of ${events} (closed ${received.closed})`;
      } catch (error) {
        sample.error = message(error);
      } finally {
        await client.call('closeAll').catch(() => undefined);
        await waitForConnections(server, 0, 10_000).catch(() => undefined);
      }
    }
  } catch (error) {
    for (const sample of samples) sample.error ??= message(error);
  } finally {
    await server?.kill();
  }
  return samples;
}

/** File descriptors a server keeps for itself beyond its connections (listening socket, IPC, stdio, the loop's own). */
const FD_RESERVE = 200;

async function scaleSession(pool: ClientPool, contender: string, requested: number, limit: FdLimit, run: number, config: BenchConfig['scale'] & ServerOptions): Promise<ScaleSample> {
  const clients = Math.min(requested, limit.limit - FD_RESERVE);
  const sample: ScaleSample = {
    contender, clients, requested, run, connectSeconds: Number.NaN, rssPerConnection: Number.NaN, heapPerConnection: Number.NaN,
    deliverMs: Number.NaN, callMs: Number.NaN, delivered: false, loopDelayMaxMs: Number.NaN, loopDelayP99Ms: Number.NaN,
    drainMs: Number.NaN, drainResolvedMs: Number.NaN, ended: 0, drainLoopDelayMaxMs: Number.NaN, writePaths: null,
  };
  let server: ContenderServers | undefined;
  try {
    server = await ContenderServers.start(contender, { ...config, drain: true, ...(limit.raised ? { nofile: limit.limit } : {}) });
    const ports = await server.ports();
    // A few connections and one event first: lazily built code and pools are not counted per connection.
    await pool.connect({ ports, count: 8 });
    await pool.expect(1);
    await server.call<OnceResult>('once');
    await pool.wait(config.timeoutMs, 0);
    await pool.closeAll();
    await waitForConnections(server, 0, 10_000);
    const idle = await server.memory();
    const began = Date.now();
    await pool.connect({ ports, count: clients, spreadSources: true, timeoutMs: config.timeoutMs });
    sample.connectSeconds = (Date.now() - began) / 1000;
    const loaded = await server.memory();
    sample.rssPerConnection = (loaded.rss - idle.rss) / clients;
    sample.heapPerConnection = (loaded.heapUsed - idle.heapUsed) / clients;
    sample.writePaths = await server.call<WritePaths | null>('writePaths');

    await pool.expect(1);
    const sent = await server.call<OnceResult>('once');
    const received = await pool.wait(config.timeoutMs);
    const delay = await server.call<LoopDelay>('loopDelay');
    sample.callMs = sent.callMs;
    sample.loopDelayMaxMs = delay.maxMs;
    sample.loopDelayP99Ms = delay.p99Ms;
    sample.delivered = exactly(received, 1);
    if (received.doneAt !== null) sample.deliverMs = (received.doneAt - sent.startedAt) / 1000;

    await pool.expectEnd();
    const closed = await server.call<CloseAllResult>('closeAll', {}, config.timeoutMs);
    const ended = await pool.waitEnded(config.timeoutMs);
    const drainDelay = await server.call<LoopDelay>('loopDelay');
    sample.ended = ended.ended;
    sample.drainResolvedMs = (closed.resolvedAt - closed.startedAt) / 1000;
    if (ended.lastAt !== null && ended.ended === ended.of) sample.drainMs = (ended.lastAt - closed.startedAt) / 1000;
    sample.drainLoopDelayMaxMs = drainDelay.maxMs;
    const problems = [
      ...(sample.delivered ? [] : [`broadcast reached ${received.minFrames}..${received.maxFrames} of 1 per client (closed ${received.closed})`]),
      ...(ended.ended === ended.of ? [] : [`${ended.ended} of ${ended.of} streams ended after closeAll`]),
    ];
    if (problems.length > 0) sample.error = problems.join('; ');
  } catch (error) {
    sample.error = message(error);
  } finally {
    await pool.closeAll().catch(() => undefined);
    await server?.kill();
  }
  return sample;
}

async function encodeSession(encoder: string, run: number, config: BenchConfig['encode'], source: boolean, callgrindDir: string | undefined): Promise<EncodeSample> {
  const { durationMs, countedFrames } = config;
  const child = new RpcChild(`encode ${encoder}`, 'encode', [], { source, ...(callgrindDir === undefined ? {} : underCallgrind(callgrindDir, `encode-${encoder}`)) });
  try {
    return { encoder, run, ...(await child.call<EncodeResult>('measure', { encoder, durationMs, countedFrames }, (durationMs * 10 + 30_000) * (callgrindDir === undefined ? 1 : 40))) };
  } catch (error) {
    return { encoder, run, json: Number.NaN, text: Number.NaN, jsonBytes: 0, textBytes: 0, jsonInstructions: Number.NaN, textInstructions: Number.NaN, error: message(error) };
  } finally {
    await child.kill();
  }
}

function machineInfo(): MachineInfo {
  const require = createRequire(import.meta.url);
  const version = (name: string): string => {
    try {
      // The package's own package.json, found next to its resolved entry.
      let dir = require.resolve(name);
      for (;;) {
        dir = dir.slice(0, dir.lastIndexOf('/'));
        try {
          const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { name?: string; version?: string };
          if (pkg.name === name) return pkg.version ?? '?';
        } catch {}
        if (dir === '') return '?';
      }
    } catch {
      return '?';
    }
  };
  let commit = '?';
  let uncommitted = 0;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    uncommitted = execFileSync('git', ['status', '--porcelain', '--', '../packages'], { encoding: 'utf8' }).split('\n').filter((line) => line !== '').length;
  } catch {}
  return {
    cpu: cpus()[0]?.model ?? '?',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadBefore: loadavg(),
    loadAfter: [],
    commit,
    uncommitted,
    buildWarnings: [],
    versions: Object.fromEntries(['better-sse', 'hono', '@hono/node-server', 'express', 'koa', 'fastify'].map((name) => [name, version(name)])),
  };
}

/**
 * The contenders that can run here: one that needs Redis is skipped, with the reason logged, when
 * redis-server cannot be started (not installed), so that the rest of the bench still runs.
 */
async function runnable(config: BenchConfig, log: Log): Promise<{ contenders: string[]; skipped: SkippedContender[] }> {
  const needRedis = config.scenarios.includes('fanout') ? config.contenders.filter((name) => findContender(name).redis === true) : [];
  const reason = needRedis.length === 0 ? undefined : await redisUnavailable();
  if (reason === undefined) return { contenders: config.contenders, skipped: [] };
  const skipped = needRedis.map((contender) => ({ contender, reason: `redis-server could not be started: ${reason}` }));
  for (const skip of skipped) log(`bench: skipping ${skip.contender}: ${skip.reason}`);
  return { contenders: config.contenders.filter((name) => !needRedis.includes(name)), skipped };
}

/** Runs the whole benchmark; `log` gets one progress line per measurement. */
export async function runBench(requested: BenchConfig, log: Log = () => undefined): Promise<BenchResults> {
  const started = Date.now();
  const { contenders, skipped } = await runnable(requested, log);
  const config: BenchConfig = { ...requested, contenders };
  const results: BenchResults = {
    config, skipped, machine: machineInfo(), startedAt: new Date(started).toISOString(), minutes: 0, fanout: [], slow: [], block: [], topics: [], scale: [], encode: [],
  };
  const client = new RpcChild('client', 'client');
  let scalePool: ClientPool | undefined;
  if (config.scenarios.includes('scale')) {
    // Every client process holds its share; the server holds them all.
    const wanted = Math.max(config.scale.clients, config.scale.compareClients) + FD_RESERVE * 5;
    results.fdLimit = fdLimit(wanted);
    if (!results.fdLimit.raised) {
      log(`bench: scale: cannot raise the open-files limit to ${wanted} (${results.fdLimit.problem}; needs root with CAP_SYS_RESOURCE); ` +
        `each process keeps ${results.fdLimit.limit}, so a server holds at most ${results.fdLimit.limit - FD_RESERVE} connections`);
    }
    scalePool = ClientPool.start(config.scale.clientProcesses, results.fdLimit.raised ? results.fdLimit.limit : undefined);
  }
  try {
    for (let run = 0; run < config.runs; run++) {
      const order = rotate(config.contenders, run);
      if (config.scenarios.includes('fanout')) {
        for (const clients of config.fanout.clients) {
          for (const contender of order) {
            const began = Date.now();
            const sample = await fanoutSession(client, contender, clients, run, { ...config.fanout, ...serverOptions(config) });
            results.fanout.push(sample);
            const redisCpu = Number.isNaN(sample.redisCpuMicrosPerDelivery) ? '' : ` (+ Redis ${sample.redisCpuMicrosPerDelivery.toFixed(2)} µs)`;
            log(`run ${run + 1}/${config.runs} fan-out ${clients} ${contender}: ${sample.error ?? `${Math.round(sample.deliveriesPerSecond)} deliveries/s, ${sample.cpuMicrosPerDelivery.toFixed(2)} µs CPU each${redisCpu}, p50 ${sample.latencyP50Ms.toFixed(2)} ms, p99 ${sample.latencyP99Ms.toFixed(2)} ms, ${(sample.rssPerConnection / 1024).toFixed(1)} KB RSS/conn`} (${seconds(began)})`);
          }
        }
      }
      if (config.scenarios.includes('slow')) {
        for (const contender of order.filter((name) => findContender(name).fanoutOnly !== true)) {
          const began = Date.now();
          const sample = await slowSession(client, contender, run, { ...config.slow, ...serverOptions(config) });
          results.slow.push(sample);
          log(`run ${run + 1}/${config.runs} slow consumer ${contender}: ${sample.error ?? `peak RSS +${(sample.peakRssGrowth / 2 ** 20).toFixed(1)} MiB, retained +${(sample.retainedGrowth / 2 ** 20).toFixed(1)} MiB, stalled client ${sample.stalledKept ? 'kept' : 'disconnected'}, got ${sample.stalledFrames} events after resuming`} (${seconds(began)})`);
        }
      }
      if (config.scenarios.includes('block')) {
        const blockContenders = order.filter((name) => findContender(name).kind !== 'cluster' && (config.block.contenders === undefined || config.block.contenders.includes(name)));
        for (const contender of blockContenders) {
          const began = Date.now();
          const sample = await blockSession(client, contender, run, { ...config.block, ...serverOptions(config) });
          results.block.push(sample);
          log(`run ${run + 1}/${config.runs} block ${config.block.clients} ${contender}: ${sample.error ?? `every client in ${sample.deliverMs.toFixed(1)} ms, loop blocked up to ${sample.loopDelayMaxMs.toFixed(1)} ms, ${sample.pingsAnswered} pings answered meanwhile`} (${seconds(began)})`);
        }
      }
      if (config.scenarios.includes('topics')) {
        for (const contender of rotate(TOPIC_CONTENDERS, run)) {
          const began = Date.now();
          const samples = await topicsSession(client, contender, run, { ...config.topics, ...serverOptions(config) });
          results.topics.push(...samples);
          for (const sample of samples) {
            log(`run ${run + 1}/${config.runs} topics ${sample.mode === 'many' ? `${config.topics.clients} topics × 1` : `1 topic × ${config.topics.clients}`} ${contender}: ${sample.error ?? `${Math.round(sample.deliveriesPerSecond)} deliveries/s, ${sample.cpuMicrosPerDelivery.toFixed(2)} µs CPU each`} (${seconds(began)})`);
          }
        }
      }
      if (config.scenarios.includes('scale') && scalePool !== undefined) {
        const runs: Array<[string, number]> = [['sse-node', config.scale.clients], ...rotate(config.scale.contenders, run).map((name): [string, number] => [name, config.scale.compareClients])];
        for (const [contender, count] of runs) {
          const began = Date.now();
          const sample = await scaleSession(scalePool, contender, count, results.fdLimit!, run, { ...config.scale, ...serverOptions(config) });
          results.scale.push(sample);
          log(`run ${run + 1}/${config.runs} scale ${sample.clients}${sample.clients < count ? ` (of ${count})` : ''} ${contender}: ${sample.error ?? `${(sample.rssPerConnection / 1024).toFixed(1)} KB RSS/conn, broadcast to all in ${sample.deliverMs.toFixed(0)} ms (loop blocked up to ${sample.loopDelayMaxMs.toFixed(0)} ms), drained in ${sample.drainMs.toFixed(0)} ms`} (${seconds(began)})`);
        }
      }
      if (config.scenarios.includes('encode')) {
        for (const encoder of rotate(config.encode.encoders, run)) {
          const began = Date.now();
          const sample = await encodeSession(encoder, run, config.encode, config.source, config.callgrindDir);
          results.encode.push(sample);
          log(`run ${run + 1}/${config.runs} encode ${encoder}: ${sample.error ?? `${Math.round(sample.json)} JSON frames/s, ${Math.round(sample.text)} text frames/s`} (${seconds(began)})`);
        }
      }
    }
  } finally {
    await client.kill();
    await scalePool?.kill();
  }
  results.machine.loadAfter = loadavg();
  results.minutes = (Date.now() - started) / 60_000;
  return results;
}
