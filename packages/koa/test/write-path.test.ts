// Which way events reach the connection through Koa (see sinkWritePath in @sse/node): straight to
// the socket on a plain app, through res.write when koa-compress compresses the stream.
import { createServer, type ServerResponse } from 'node:http';
import Koa from 'koa';
import compress from 'koa-compress';
import { listen, requestEventStream, type MountedServer } from '@sse/conformance';
import { sinkWritePath } from '@sse/node/adapter';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sse, type EventStream } from '../src/index.js';

const servers: MountedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

let last: { stream: EventStream; res: ServerResponse } | undefined;
// Without no-transform in Cache-Control, koa-compress applies.
const route = sse((stream, ctx) => void (last = { stream, res: ctx.res }), { keepAlive: false, headers: { 'cache-control': 'no-cache' } });

async function open(app: Koa, headers: Record<string, string> = {}): Promise<{ path: unknown; text: string; encoding: unknown }> {
  const callback = app.use(route).callback();
  const server = await listen(createServer((req, res) => void callback(req, res)), '/events');
  servers.push(server);
  const client = await requestEventStream(server.url, { headers });
  const opened = await vi.waitFor(
    () => {
      if (last === undefined) throw new Error('the stream did not open');
      return last;
    },
    { timeout: 10_000, interval: 5 },
  );
  last = undefined;
  opened.stream.send({ id: '1', data: 'one' });
  await opened.stream.close();
  await client.waitForEnd();
  return { path: sinkWritePath(opened.res), text: client.text, encoding: client.headers['content-encoding'] };
}

describe('@sse/koa: the write path', () => {
  it('a plain app writes to the socket', async () => {
    const { path, text } = await open(new Koa());
    expect(path).toBe('socket');
    expect(text).toContain('id: 1\ndata: one\n\n');
  });

  it('behind koa-compress, whatever it does to the stream, the client gets whole events', async () => {
    const { path, text, encoding } = await open(new Koa().use(compress({ threshold: 0 })), { 'accept-encoding': 'gzip' });
    // koa-compress compresses a body it is given, not writes to ctx.res: the stream stays uncompressed on the socket path.
    expect([path, encoding]).toEqual(['socket', undefined]);
    expect(text).toContain('id: 1\ndata: one\n\n');
  });
});
