// Which way events reach the connection through Fastify (see sinkWritePath in @sse/node): after
// reply.hijack() the stream owns Node's response, so on HTTP/1.1 straight to the socket.
import { createServer, type Server, type ServerResponse } from 'node:http';
import compress from '@fastify/compress';
import fastify from 'fastify';
import { listen, requestEventStream, type MountedServer } from '@sse/conformance';
import { sinkWritePath } from '@sse/node/adapter';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sse, type EventStream } from '../src/index.js';

const servers: MountedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function open(withCompress: boolean): Promise<{ path: unknown; text: string; encoding: unknown }> {
  let last: { stream: EventStream; res: ServerResponse } | undefined;
  let server: Server | undefined;
  const app = fastify({ serverFactory: (handle) => (server = createServer(handle)) });
  if (withCompress) await app.register(compress, { threshold: 0 });
  app.get('/events', sse((stream, _request, reply) => void (last = { stream, res: reply.raw }), { keepAlive: false, headers: { 'cache-control': 'no-cache' } }));
  await app.ready();
  const mounted = await listen(server!, '/events');
  servers.push(mounted);
  const client = await requestEventStream(mounted.url, { headers: { 'accept-encoding': 'gzip' } });
  const opened = await vi.waitFor(
    () => {
      if (last === undefined) throw new Error('the stream did not open');
      return last;
    },
    { timeout: 10_000, interval: 5 },
  );
  opened.stream.send({ id: '1', data: 'one' });
  await opened.stream.close();
  await client.waitForEnd();
  return { path: sinkWritePath(opened.res), text: client.text, encoding: client.headers['content-encoding'] };
}

describe('@sse/fastify: the write path', () => {
  it('a plain route writes to the socket', async () => {
    const { path, text } = await open(false);
    expect(path).toBe('socket');
    expect(text).toContain('id: 1\ndata: one\n\n');
  });

  it('with @fastify/compress registered (it compresses replies, not a hijacked response): to the socket, uncompressed', async () => {
    expect(await open(true)).toMatchObject({ path: 'socket', encoding: undefined });
  });
});
