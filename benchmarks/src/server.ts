/**
 * A contender's server process: loads one contender, then broadcasts and reports its own CPU time
 * and memory on the orchestrator's command.
 */
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { findContender } from './contenders/index.js';
import { CallgrindWindow, readIo, type IoCounters } from './counts.js';
import type { BenchServer, StartContender } from './contenders/types.js';
import { jsonEvent, kilobyteEvent, nowMicros } from './events.js';
import { LoopDelayMonitor, type LoopDelay } from './loop-delay.js';
import { PING_PATH } from './pinger.js';
import { serveRpc } from './rpc.js';

export interface MemoryReading {
  rss: number;
  /** Committed size of V8's young generation, which grows with allocation rate, not live data. */
  newSpace: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface BurstResult {
  /** Broadcast start on the shared monotonic clock, µs. */
  startedAt: number;
}

export interface SlowResult {
  before: MemoryReading;
  /** Highest RSS seen while broadcasting. */
  peakRss: number;
  /** After the broadcast and a full GC: what the server still holds. */
  retained: MemoryReading;
  /** Open connections after the broadcast (the stalled one included, if it was kept). */
  connections: number;
  seconds: number;
}

export type { LoopDelay } from './loop-delay.js';

/** What a server did since its window started (a burst, `startCpuWindow`). */
export interface WindowReading {
  /** User + system CPU time, µs. */
  cpuMicros: number;
  /** Write system calls and bytes written (`/proc/self/io`); `NaN` where that cannot be read. */
  writeSyscalls: number;
  bytesWritten: number;
  /** Instructions executed, when the server runs under callgrind (`--callgrind`); else `NaN`. */
  instructions: number;
}

export interface OnceResult {
  /** Broadcast start on the shared monotonic clock, µs. */
  startedAt: number;
  /** How long the `broadcast` call itself ran, ms (work it defers to later turns not included). */
  callMs: number;
}

export interface CloseAllResult {
  startedAt: number;
  /** When the contender's `closeAll` resolved, µs. */
  resolvedAt: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('the server process needs --expose-gc');

async function settledMemory(): Promise<MemoryReading> {
  // Two passes with a turn in between, so that finalizers and weak callbacks have run.
  for (let pass = 0; pass < 3; pass++) {
    gc!();
    await nextTurn();
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;
  return { rss, newSpace, heapUsed, external, arrayBuffers };
}

function connections(bench: BenchServer): Promise<number> {
  return Promise.all(
    bench.servers.map((server) => new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))))),
  ).then((counts) => counts.reduce((sum, count) => sum + count, 0));
}

const contender = findContender(process.argv[2] ?? '');
const { start } = (await import(new URL(`./contenders/${contender.module}`, import.meta.url).href)) as { start: StartContender };
const redisUrl = process.env['BENCH_REDIS_URL'];
const bench = await start({ ...(redisUrl === undefined ? {} : { redisUrl }), drain: process.env['BENCH_DRAIN'] === '1' });

// `GET /ping` is answered here, ahead of the contender, on each of its servers: a plain request
// on the same event loop, which the block scenario sends while a broadcast fans out.
for (const server of bench.servers) {
  const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === PING_PATH) {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' });
      res.end('pong');
      return;
    }
    for (const listener of listeners) listener.call(server, req, res);
  });
}

/** Event-loop delay, a new window when a measured window starts (the timer runs from the first). */
const loopDelay = new LoopDelayMonitor();
function startLoopDelay(): void {
  loopDelay.reset();
}
let cpuAtWindowStart = process.cpuUsage();
let ioAtWindowStart: IoCounters | undefined;
const callgrindOut = process.env['BENCH_CALLGRIND_OUT'];
const callgrind = callgrindOut === undefined ? undefined : new CallgrindWindow(callgrindOut);
let seq = 0;

/** With BENCH_PROFILE_DIR, each burst (and only the burst) is profiled into that folder. */
const profileDir = process.env['BENCH_PROFILE_DIR'];
const profiler = profileDir === undefined ? undefined : new Session();
let profiles = 0;
let profiling = false;
if (profiler !== undefined) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
}

async function startCpuWindow(): Promise<void> {
  await settledMemory(); // no GC debt from setup lands in the measurement
  if (profiler !== undefined) {
    // Only the last window before `cpu` is kept: restart, discarding a warm-up burst's samples.
    if (profiling) await profiler.post('Profiler.stop');
    await profiler.post('Profiler.start');
    profiling = true;
  }
  await callgrind?.zero();
  startLoopDelay();
  ioAtWindowStart = readIo();
  cpuAtWindowStart = process.cpuUsage();
}

serveRpc({
  ports: () => bench.servers.map((server) => (server.address() as AddressInfo).port),
  memory: () => settledMemory(),
  connections: () => connections(bench),
  /**
   * Starts the CPU window (and profile) that `cpu` reads without broadcasting: what an instance
   * that only receives does before another instance's burst.
   */
  startCpuWindow: () => startCpuWindow(),
  /** Broadcasts `count` events as fast as the server can, one per turn of the event loop. */
  burst: async ({ count }: { count: number }): Promise<BurstResult> => {
    await startCpuWindow();
    const startedAt = nowMicros();
    for (let i = 0; i < count; i++) {
      bench.broadcast(jsonEvent(seq++));
      await nextTurn();
    }
    return { startedAt };
  },
  /** What the server did (CPU time, writes, instructions) since the last burst (or `startCpuWindow`) started. */
  cpu: async (): Promise<WindowReading> => {
    const { user, system } = process.cpuUsage(cpuAtWindowStart);
    const io = readIo();
    const instructions = callgrind === undefined ? Number.NaN : await callgrind.dump();
    if (profiler !== undefined && profiling) {
      profiling = false;
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(join(profileDir!, `${contender.name}-${process.pid}-${++profiles}.cpuprofile`), JSON.stringify(profile));
    }
    return {
      cpuMicros: user + system,
      writeSyscalls: io === undefined || ioAtWindowStart === undefined ? Number.NaN : io.writeSyscalls - ioAtWindowStart.writeSyscalls,
      bytesWritten: io === undefined || ioAtWindowStart === undefined ? Number.NaN : io.bytesWritten - ioAtWindowStart.bytesWritten,
      instructions,
    };
  },
  /** The event loop's delay since the last window (a burst, `once`, `closeAll`) started. */
  loopDelay: (): LoopDelay => loopDelay.read(),
  /** How many open responses took each write path (`sinkWritePath`), for @sse contenders. */
  writePaths: () => bench.writePaths?.() ?? null,
  /** Broadcasts one event (after a GC, with the loop-delay window and the CPU window started). */
  once: async (): Promise<OnceResult> => {
    await startCpuWindow();
    const startedAt = nowMicros();
    const before = performance.now();
    bench.broadcast(jsonEvent(seq++));
    return { startedAt, callMs: performance.now() - before };
  },
  /** Ends every stream through the contender's `closeAll` (a registry's drain for @sse). */
  closeAll: async (): Promise<CloseAllResult> => {
    if (bench.closeAll === undefined) throw new Error(`${contender.name} has no closeAll (start it with BENCH_DRAIN=1)`);
    await startCpuWindow();
    const startedAt = nowMicros();
    await bench.closeAll();
    return { startedAt, resolvedAt: nowMicros() };
  },
  /**
   * Topics: per turn of the event loop, one event to each of `topics` topics (`t0`, `t1`, …),
   * `rounds` times, as fast as the server can.
   */
  topicBurst: async ({ topics, rounds }: { topics: number; rounds: number }): Promise<BurstResult> => {
    if (bench.publish === undefined) throw new Error(`${contender.name} does not publish to topics`);
    await startCpuWindow();
    const startedAt = nowMicros();
    for (let round = 0; round < rounds; round++) {
      for (let topic = 0; topic < topics; topic++) bench.publish(`t${topic}`, jsonEvent(seq++));
      await nextTurn();
    }
    return { startedAt };
  },
  /** Broadcasts `count` events `intervalMs` apart; each carries its broadcast time. */
  paced: async ({ count, intervalMs }: { count: number; intervalMs: number }) => {
    for (let i = 0; i < count; i++) {
      bench.broadcast(jsonEvent(seq++));
      await sleep(intervalMs);
    }
  },
  /** Broadcasts `count` ~1 KB events, yielding every `yieldEvery`, sampling RSS as it goes. */
  slow: async ({ count, yieldEvery }: { count: number; yieldEvery: number }): Promise<SlowResult> => {
    const before = await settledMemory();
    let peakRss = before.rss;
    const startedAt = performance.now();
    for (let i = 0; i < count; i++) {
      bench.broadcast(kilobyteEvent(seq++));
      if (i % yieldEvery === yieldEvery - 1) {
        await nextTurn();
        if (i % (yieldEvery * 20) === yieldEvery - 1) peakRss = Math.max(peakRss, process.memoryUsage.rss());
      }
    }
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const seconds = (performance.now() - startedAt) / 1000;
    await sleep(200); // let queued writes settle before reading what is retained
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const retained = await settledMemory();
    return { before, peakRss, retained, connections: await connections(bench), seconds };
  },
});
