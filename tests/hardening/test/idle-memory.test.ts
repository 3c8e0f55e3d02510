// What an idle stream keeps, per adapter: the heap it holds while open, against @sse/node's in the
// same process. The clients are another process, so only the server's side is counted. The
// bounds are in bytes per stream, far from both sides of what is measured (see below): they catch
// an adapter that starts keeping its framework's per-request work alive again, not a few bytes.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStream } from '@sse/core';
import { heapAfterGc } from './load.js';
import { record } from './figures.js';
import { adapters } from './servers.js';

/** Idle streams per measurement: enough that a few hundred bytes of noise are under 1 byte each. */
const STREAMS = 600;
const KB = 1024;

/**
 * Opens `count` streams to `url` from a child process, one at a time, and resolves once every one
 * has its head. The child keeps them open until it is killed.
 */
async function openIdleClients(url: string, count: number): Promise<ChildProcess> {
  const { port } = new URL(url);
  const script = `
    const net = require('node:net');
    let open = 0;
    const next = () => {
      const socket = net.connect(${Number(port)}, '127.0.0.1', () => socket.write('GET /sse HTTP/1.1\\r\\nHost: x\\r\\nAccept: text/event-stream\\r\\n\\r\\n'));
      socket.once('data', () => (++open === ${count} ? process.stdout.write('ready\\n') : next()));
      socket.on('error', (error) => { console.error(error); process.exit(1); });
    };
    next();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('ready')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`the client process ended before its streams were open (${String(code ?? signal)})`)));
  });
  return child;
}

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

/** Heap per idle stream through `adapter`, in bytes: after a full GC, with and without them open. */
async function heapPerStream(adapter: keyof typeof adapters): Promise<number> {
  const streams: EventStream[] = [];
  const server = await adapters[adapter]((stream) => void streams.push(stream), { keepAlive: false });
  try {
    // Warm-up in the same server: compiled code, lazily created structures, the first map transitions.
    const warm = await openIdleClients(server.url, 50);
    warm.kill('SIGKILL');
    await once(warm, 'exit');
    await waitFor(() => streams.length === 50 && streams.every((stream) => stream.isClosed));
    streams.length = 0;
    const before = heapAfterGc();
    const clients = await openIdleClients(server.url, STREAMS);
    await waitFor(() => streams.length === STREAMS);
    const after = heapAfterGc();
    expect(streams.every((stream) => !stream.isClosed)).toBe(true);
    clients.kill('SIGKILL');
    await once(clients, 'exit');
    await waitFor(() => streams.every((stream) => stream.isClosed));
    return (after - before) / STREAMS;
  } finally {
    await server.close();
  }
}

async function waitFor(condition: () => boolean): Promise<void> {
  // A hang guard, not a budget: the loop waits for the servers' own events.
  for (let round = 0; !condition(); round++) {
    if (round > 6000) throw new Error('timed out waiting for the streams');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('idle memory per stream, against @sse/node in the same process', () => {
  it(`${STREAMS} idle streams per adapter: none keeps more than its framework's request objects on top of @sse/node's`, async () => {
    const node = await heapPerStream('node');
    const held: Record<string, number> = {};
    for (const adapter of ['hono', 'express', 'koa', 'fastify'] as const) held[adapter] = await heapPerStream(adapter);
    record('idle heap per stream (KB)', { node: +(node / KB).toFixed(2), ...Object.fromEntries(Object.entries(held).map(([name, bytes]) => [name, +(bytes / KB).toFixed(2)])) });
    // @sse/node itself: a stream, its sink and their listeners on top of Node's request and response.
    expect(node).toBeGreaterThan(0);
    expect(node).toBeLessThan(12 * KB);
    // Hono on @hono/node-server: its Web Request and the server's close listener, once the server's
    // read of the body has finished (the hand-over to the socket). 1.2 KB above @sse/node here;
    // 7 KB while the server's read of the body lived as long as the stream.
    expect(held['hono']! - node).toBeLessThan(4 * KB);
    // Express (its own hidden classes for req and res) and Koa (context, request, response,
    // on-finished's closures): about 3 KB above @sse/node each. Fastify: level with @sse/node
    // (no logger, so Fastify keeps neither request nor reply, and the adapter keeps them for no
    // default onError either; fastify.test.ts checks that by WeakRef).
    expect(held['express']! - node).toBeLessThan(6 * KB);
    expect(held['koa']! - node).toBeLessThan(6 * KB);
    expect(held['fastify']! - node).toBeLessThan(1.5 * KB);
  });
});
