// On @hono/node-server, events move from the body stream to Node's socket once the server has
// written the body's chunks unchanged (see writeToNodeSocket); a middleware that changes the body
// keeps them on it. Checked on the bytes a raw TCP client reads: one head, whole chunks, the end.
import { connect, type Socket } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { listen, type MountedServer } from '@sse/conformance';
import { sinkWritePath, type NodeResponse } from '@sse/node/adapter';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sse, type EventStream } from '../src/index.js';

const servers: MountedServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

interface Opened {
  stream: EventStream;
  outgoing: NodeResponse;
}

async function start(...middleware: MiddlewareHandler[]): Promise<{ port: number; opened: Opened[] }> {
  const opened: Opened[] = [];
  const app = new Hono();
  for (const handler of middleware) app.use(handler);
  app.get(
    '/events',
    sse((stream, c: Context) => void opened.push({ stream, outgoing: (c.env as { outgoing: NodeResponse }).outgoing }), { keepAlive: false }),
  );
  app.get('/ping', (c) => c.text('pong'));
  const server = await listen(createAdaptorServer({ fetch: app.fetch }), '/events');
  servers.push(server);
  return { port: Number(new URL(server.url).port), opened };
}

function rawClient(port: number): { socket: Socket; text: () => string } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let text = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk));
  socket.write('GET /events HTTP/1.1\r\nHost: x\r\nOrigin: http://app.example\r\n\r\n');
  return { socket, text: () => text };
}

function until(condition: () => boolean): Promise<void> {
  return vi.waitFor(() => expect(condition()).toBe(true), { timeout: 10_000, interval: 5 });
}

/** The chunks of a chunked body, and whether the last-chunk ended it. */
function dechunk(body: string): { chunks: string[]; ended: boolean } {
  const chunks: string[] = [];
  let at = 0;
  for (;;) {
    const line = body.indexOf('\r\n', at);
    if (line < 0) return { chunks, ended: false };
    const size = Number.parseInt(body.slice(at, line), 16);
    if (size === 0) return { chunks, ended: body.startsWith('\r\n', line + 2) };
    chunks.push(body.slice(line + 2, line + 2 + size));
    at = line + 4 + size;
  }
}

async function sendAndClose(opened: Opened, client: ReturnType<typeof rawClient>): Promise<{ head: string; chunks: string[] }> {
  for (let i = 1; i <= 3; i++) opened.stream.send({ id: String(i), data: `event ${i}` });
  await opened.stream.close();
  const split = (): [string, string] => {
    const text = client.text();
    const end = text.indexOf('\r\n\r\n');
    return [text.slice(0, end + 4), text.slice(end + 4)];
  };
  await until(() => dechunk(split()[1]).ended);
  const [head, body] = split();
  return { head, chunks: dechunk(body).chunks };
}

describe('@sse/hono on @hono/node-server: events straight to the socket', () => {
  it('plain: once the first chunk was written, events go to the socket; one head, whole events, the end', async () => {
    const { port, opened } = await start();
    const client = rawClient(port);
    await until(() => opened.length === 1 && sinkWritePath(opened[0]!.outgoing) !== undefined);
    expect(sinkWritePath(opened[0]!.outgoing)).toBe('socket');
    const { head, chunks } = await sendAndClose(opened[0]!, client);
    expect(head.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(chunks.slice(1)).toEqual(['id: 1\ndata: event 1\n\n', 'id: 2\ndata: event 2\n\n', 'id: 3\ndata: event 3\n\n']);
  });

  it('with CORS (a middleware that touched c.res after the handler): the header is kept, and events still go to the socket', async () => {
    const { port, opened } = await start(cors({ origin: 'http://app.example' }));
    const client = rawClient(port);
    await until(() => opened.length === 1 && sinkWritePath(opened[0]!.outgoing) !== undefined);
    expect(sinkWritePath(opened[0]!.outgoing)).toBe('socket');
    const { head, chunks } = await sendAndClose(opened[0]!, client);
    expect(head).toMatch(/\r\naccess-control-allow-origin: http:\/\/app\.example\r\n/i);
    expect(head.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(chunks.slice(1)).toHaveLength(3);
  });

  it('a middleware that transforms the body keeps the events on it: every event goes through the transform', async () => {
    const shout: MiddlewareHandler = async (c, next) => {
      await next();
      const upper = new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, controller) => controller.enqueue(new TextEncoder().encode(new TextDecoder().decode(chunk).toUpperCase())),
      });
      c.res = new Response(c.res.body!.pipeThrough(upper), c.res);
    };
    const { port, opened } = await start(shout);
    const client = rawClient(port);
    await until(() => opened.length === 1 && sinkWritePath(opened[0]!.outgoing) !== undefined);
    expect(sinkWritePath(opened[0]!.outgoing)).toBe('response');
    const { chunks } = await sendAndClose(opened[0]!, client);
    expect(chunks.join('')).toContain('ID: 1\nDATA: EVENT 1\n\nID: 2\nDATA: EVENT 2\n\nID: 3\nDATA: EVENT 3\n\n');
  });

  it('a body passed through unchanged (an identity TransformStream) is safe to bypass: nothing of it is left behind', async () => {
    const pass: MiddlewareHandler = async (c, next) => {
      await next();
      c.res = new Response(c.res.body!.pipeThrough(new TransformStream()), c.res);
    };
    const { port, opened } = await start(pass);
    const client = rawClient(port);
    await until(() => opened.length === 1 && sinkWritePath(opened[0]!.outgoing) !== undefined);
    expect(sinkWritePath(opened[0]!.outgoing)).toBe('socket');
    const { chunks } = await sendAndClose(opened[0]!, client);
    expect(chunks.slice(1)).toEqual(['id: 1\ndata: event 1\n\n', 'id: 2\ndata: event 2\n\n', 'id: 3\ndata: event 3\n\n']);
  });

  it('on the socket, a client that leaves closes the stream (reason client): the body has ended, so the connection says it', async () => {
    const { port, opened } = await start();
    const client = rawClient(port);
    await until(() => opened.length === 1 && sinkWritePath(opened[0]!.outgoing) === 'socket');
    opened[0]!.stream.send('one');
    await until(() => client.text().includes('data: one'));
    client.socket.destroy();
    expect(await opened[0]!.stream.closed).toEqual({ reason: 'client' });
  });

  it('after the stream ends the connection serves the next request', async () => {
    const { port, opened } = await start();
    const client = rawClient(port);
    await until(() => opened.length === 1 && sinkWritePath(opened[0]!.outgoing) === 'socket');
    await sendAndClose(opened[0]!, client);
    const before = client.text().length;
    client.socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => client.text().slice(before).endsWith('pong'));
    expect(client.text().slice(before)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });
});
