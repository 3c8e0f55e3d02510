// `pnpm demo:cluster`: the demo script itself, started the way its package script starts it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect, test, vi } from 'vitest';
import { openEventStream, type EventStreamClient } from '@sse/conformance';
import { STREAM_TIMEOUT_MS, TEST_TICK_MS } from './support/app.js';
import { postMessage, uniquePrefix } from './support/http.js';
import { postRoomMessage, uniqueRoom } from './support/rooms.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLUSTER_DIR = `${ROOT}apps/cluster/`;

const scriptsOf = (path: string): Record<string, string> => (JSON.parse(readFileSync(path, 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Resolves `true` when something accepts connections on the port, `false` when it is refused. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface RunningDemo {
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(signal: NodeJS.Signals): void;
  /** Stops what a failed run left: politely first, so the demo stops its Redis processes. */
  cleanup(): Promise<void>;
}

/** Starts the demo the way its package script does, with free ports and no REDIS_URL. */
function startDemo(extraArgs: string[], env: Record<string, string> = {}): RunningDemo {
  const [, ...args] = scriptsOf(`${CLUSTER_DIR}package.json`).demo!.split(' ');
  const demo = spawn(process.execPath, [...args, ...extraArgs], {
    cwd: CLUSTER_DIR,
    // No REDIS_URL: the demo starts a redis-server of its own. Free ports instead of 3001/3002.
    env: { ...process.env, REDIS_URL: '', REDIS_CLUSTER_NODES: '', PORTS: '0,0', TICK_MS: String(TEST_TICK_MS), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  demo.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  demo.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => demo.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    output: () => output,
    exited,
    signal: (signal) => demo.kill(signal),
    async cleanup() {
      if (demo.exitCode !== null || demo.signalCode !== null) return;
      demo.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000))]);
      if (stopped) return;
      for (const [, pid] of output.matchAll(/\(pid (\d+)\)/g)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      demo.kill('SIGKILL');
      await exited;
    },
  };
}

test('demo:cluster starts two Express instances sharing one chat through its own redis-server, and SIGTERM stops all three', async () => {
  // The root script installs what is missing (scripts/run.mjs), then runs the cluster package's `demo`.
  expect(scriptsOf(`${ROOT}package.json`)['demo:cluster']).toBe('node scripts/run.mjs demo:cluster');
  expect(readFileSync(`${ROOT}scripts/run.mjs`, 'utf8')).toContain("'--filter', '@sse-example/cluster', 'demo'");
  const [command, ...args] = scriptsOf(`${CLUSTER_DIR}package.json`).demo!.split(' ');
  expect(command).toBe('node');

  const demo = spawn(process.execPath, args, {
    cwd: CLUSTER_DIR,
    // No REDIS_URL: the demo starts a redis-server of its own. Free ports instead of 3001/3002.
    env: { ...process.env, REDIS_URL: '', PORTS: '0,0', TICK_MS: String(TEST_TICK_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  demo.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  demo.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    demo.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const reader: { current?: EventStreamClient } = {};
  try {
    const started = await vi.waitFor(
      () => {
        const redis = /Started redis-server on redis:\/\/127\.0\.0\.1:(\d+)/.exec(output);
        const a = /^ {2}A {2}http:\/\/localhost:(\d+)/m.exec(output);
        const b = /^ {2}B {2}http:\/\/localhost:(\d+)/m.exec(output);
        if (demo.exitCode !== null) throw new Error(`demo:cluster exited early:\n${output}`);
        if (redis === null || a === null || b === null) throw new Error(`demo:cluster is not ready yet:\n${output}`);
        return { redisPort: Number(redis[1]), a: Number(a[1]), b: Number(b[1]) };
      },
      { timeout: 90_000, interval: 100 }, // a hang guard: redis-server and two instances through tsx
    );
    expect(output).toMatch(/^\[A\] Express demo listening on .* \(chat history in Redis at (redis:\/\/127\.0\.0\.1:\d+), rooms in Redis at \1\)$/m);
    expect(output).toMatch(/^\[B\] Express demo listening on .* \(chat history in Redis at (redis:\/\/127\.0\.0\.1:\d+), rooms in Redis at \1\)$/m);
    expect(started.a).not.toBe(started.b);

    reader.current = await openEventStream(`http://127.0.0.1:${started.b}/chat`, { timeoutMs: STREAM_TIMEOUT_MS });
    await reader.current.waitForEvent((e) => e.event === 'snapshot');
    const posted = await postMessage(`http://127.0.0.1:${started.a}`, uniquePrefix('cluster'));
    await reader.current.waitForEvent((e) => e.event === 'message' && e.id === posted.id);

    demo.kill('SIGTERM');
    expect(await exited, output).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/^\[A\] SIGTERM received/m);
    expect(output).toMatch(/^\[B\] SIGTERM received/m);
    expect(output).toContain('demo:cluster stopped');
    expect(await reader.current.ended).toBe('end');
    for (const port of [started.redisPort, started.a, started.b]) expect(await isListening(port), `port ${port}`).toBe(false);
  } finally {
    reader.current?.close();
    if (demo.exitCode === null && demo.signalCode === null) {
      // A failed run still stops what it started: politely first, so the demo stops its redis-server.
      demo.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000))]);
      if (!stopped) {
        for (const [, pid] of output.matchAll(/\(pid (\d+)\)/g)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        demo.kill('SIGKILL');
        await exited;
      }
    }
  }
}, 180_000); // a hang guard: the demo starts redis-server and two instances through tsx

test('demo:cluster --redis-cluster puts the rooms on a Redis Cluster of its own: a room message posted to one instance reaches a client of the other; SIGTERM stops every node', async () => {
  const demo = startDemo(['--redis-cluster']);
  const reader: { current?: EventStreamClient } = {};
  try {
    const started = await vi.waitFor(
      () => {
        const output = demo.output();
        const seeds = /Started a Redis Cluster of 6 redis-servers on (\S+) for the rooms/.exec(output);
        const a = /^ {2}A {2}http:\/\/localhost:(\d+)/m.exec(output);
        const b = /^ {2}B {2}http:\/\/localhost:(\d+)/m.exec(output);
        if (/demo:cluster stopped|could not start/.test(output)) throw new Error(`demo:cluster exited early:\n${output}`);
        if (seeds === null || a === null || b === null) throw new Error(`demo:cluster is not ready yet:\n${output}`);
        return { seeds: seeds[1]!, a: Number(a[1]), b: Number(b[1]) };
      },
      { timeout: 120_000, interval: 100 }, // a hang guard: six cluster nodes, a redis-server and two instances through tsx
    );
    expect(demo.output()).toMatch(new RegExp(`^\\[B\\] Express demo listening on .*, rooms in the Redis Cluster at ${started.seeds.replaceAll('.', '\\.')}\\)$`, 'm'));

    const room = uniqueRoom('demo');
    reader.current = await openEventStream(`http://127.0.0.1:${started.b}/events?rooms=${room}`, { timeoutMs: STREAM_TIMEOUT_MS });
    await reader.current.waitForEvent((e) => e.event === 'joined');
    await postRoomMessage(`http://127.0.0.1:${started.a}`, room, 'across the cluster');
    await reader.current.waitForEvent((e) => e.event === undefined && e.data.includes('across the cluster'));

    demo.signal('SIGTERM');
    expect(await demo.exited, demo.output()).toEqual({ code: 0, signal: null });
    expect(demo.output()).toContain('demo:cluster stopped');
    const ports = [started.a, started.b, ...started.seeds.split(',').map((seed) => Number(seed.split(':')[1]))];
    for (const port of ports) expect(await isListening(port), `port ${port}`).toBe(false);
  } finally {
    reader.current?.close();
    await demo.cleanup();
  }
}, 240_000); // a hang guard: a Redis Cluster, a redis-server and two instances through tsx

test('demo:cluster refuses --redis-cluster together with REDIS_CLUSTER_NODES, and a bad REDIS_CLUSTER_NODES, with one line each', async () => {
  const both = startDemo(['--redis-cluster'], { REDIS_CLUSTER_NODES: '127.0.0.1:7000' });
  const bad = startDemo([], { REDIS_CLUSTER_NODES: 'localhost' });
  try {
    expect(await both.exited).toEqual({ code: 1, signal: null });
    expect(both.output().trim()).toBe('--redis-cluster starts a Redis Cluster of its own, and REDIS_CLUSTER_NODES names one: use one or the other');
    expect(await bad.exited).toEqual({ code: 1, signal: null });
    expect(bad.output().trim()).toMatch(/^REDIS_CLUSTER_NODES must be comma-separated host:port seeds of a Redis Cluster, .*; "localhost" is not one$/);
  } finally {
    await Promise.all([both.cleanup(), bad.cleanup()]);
  }
}, 60_000);
