// Which way events reach the connection through Express (see sinkWritePath in @sse/node): straight
// to the socket on a plain route, through res.write when compression wrapped it.
import { createServer } from 'node:http';
import compression from 'compression';
import express from 'express';
import { listen, requestEventStream, type MountedServer } from '@sse/conformance';
import { sinkWritePath } from '@sse/node/adapter';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sse, type EventStream } from '../src/index.js';

const servers: MountedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function open(app: express.Express, headers: Record<string, string> = {}): Promise<{ path: unknown; text: string }> {
  const server = await listen(createServer(app), '/events');
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
  return { path: sinkWritePath(opened.res), text: client.text };
}

let last: { stream: EventStream; res: express.Response } | undefined;
// Without no-transform in Cache-Control, compression applies.
const route = sse((stream, _req, res) => void (last = { stream, res }), { keepAlive: false, headers: { 'cache-control': 'no-cache' } });

describe('@sse/express: the write path', () => {
  it('a plain route writes to the socket', async () => {
    const { path, text } = await open(express().get('/events', route));
    expect(path).toBe('socket');
    expect(text).toContain('id: 1\ndata: one\n\n');
  });

  it('behind compression (which wraps res.write), through res.write: the client decodes the gzip', async () => {
    const { path, text } = await open(express().use(compression()).get('/events', route), { 'accept-encoding': 'gzip' });
    expect(path).toBe('response');
    expect(text).toContain('id: 1\ndata: one\n\n');
  });
});
