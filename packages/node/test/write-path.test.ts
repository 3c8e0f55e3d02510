// The two ways events reach a Node connection (see sinkWritePath): straight to the socket as
// HTTP/1.1 chunks framed once per broadcast, or through res.write when something else must see
// or frame the bytes. Checked on the bytes a raw TCP client reads.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, connect as connectHttp2 } from 'node:http2';
import { connect, type AddressInfo, type Socket } from 'node:net';
import compression from 'compression';
import { afterEach, describe, expect, it } from 'vitest';
import { createTopicHub, sse, type EventStream } from '@sse/node';
import { sinkWritePath } from '@sse/node/adapter';

const servers: Array<{ close(): void }> = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) server.close();
});

interface Opened {
  stream: EventStream;
  res: ServerResponse;
}

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A server whose `/events` opens a stream (after `before`, a middleware) and whose other paths answer `pong`. */
async function start(
  before?: (req: IncomingMessage, res: ServerResponse, next: () => void) => void,
  headers?: Record<string, string>,
): Promise<{ port: number; opened: Opened[] }> {
  const opened: Opened[] = [];
  const events = sse((stream, _req, res) => void opened.push({ stream, res }), { keepAlive: false, headers: headers ?? {} });
  const server = createServer((req, res) => {
    if (req.url !== '/events') {
      res.end('pong');
      return;
    }
    if (before === undefined) events(req, res);
    else before(req, res, () => events(req, res));
  });
  return { port: await listen(server), opened };
}

/** A raw TCP client: what it sent, and every byte it read. */
function rawClient(port: number, request: string): { socket: Socket; text: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(request);
  return { socket, text: () => Buffer.concat(chunks).toString('latin1'), closed };
}

async function until<T>(read: () => T | undefined, what: string): Promise<T> {
  // A hang guard, not a timing: the condition is the test.
  for (let i = 0; i < 2_000; i++) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The body of a chunked response: its chunks, and whether the last-chunk ended it. */
function dechunk(body: string): { chunks: string[]; ended: boolean; rest: string } {
  const chunks: string[] = [];
  let at = 0;
  for (;;) {
    const line = body.indexOf('\r\n', at);
    if (line < 0) return { chunks, ended: false, rest: body.slice(at) };
    const size = Number.parseInt(body.slice(at, line), 16);
    if (size === 0) return { chunks, ended: body.startsWith('\r\n', line + 2), rest: body.slice(line + 4) };
    chunks.push(body.slice(line + 2, line + 2 + size));
    expect(body.slice(line + 2 + size, line + 4 + size)).toBe('\r\n');
    at = line + 4 + size;
  }
}

const headEnd = (text: string): number => text.indexOf('\r\n\r\n') + 4;

describe('@sse/node: events straight to the socket', () => {
  it('HTTP/1.1: one chunk per event, framed once per publish, then the last-chunk, and the connection serves the next request', async () => {
    const { port, opened } = await start();
    const client = rawClient(port, 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    const { stream, res } = await until(() => opened[0], 'the stream');
    expect(sinkWritePath(res)).toBe('socket');
    const hub = createTopicHub();
    await hub.subscribe(stream, ['room:1']);
    for (let i = 1; i <= 3; i++) await hub.publish('room:1', { data: i });
    stream.send({ id: 'x', data: 'é\nline' });
    await stream.close();
    const text = await until(() => (dechunk(client.text().slice(headEnd(client.text()))).ended ? client.text() : undefined), 'the last-chunk');
    expect(text.slice(0, headEnd(text))).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*transfer-encoding: chunked\r\n/i);
    const { chunks } = dechunk(text.slice(headEnd(text)));
    // The open comment, the id-only frame of the subscription, three events, the sent event: each its own chunk, whole.
    expect(chunks.length).toBe(6);
    expect(chunks.slice(2, 5).map((chunk) => /"data":(\d)/.exec(chunk)?.[1])).toEqual(['1', '2', '3']);
    for (const chunk of chunks) expect(chunk.endsWith('\n\n')).toBe(true);
    expect(Buffer.from(chunks[5]!, 'latin1').toString('utf8')).toBe('id: x\ndata: é\ndata: line\n\n');
    const before = client.text().length;
    client.socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => client.text().slice(before).endsWith('pong'), 'the next response on the same connection');
    expect(client.text().slice(before)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it('publishes queued faster than they are written are joined: several whole events per HTTP chunk, all of them, in order', async () => {
    const { port, opened } = await start();
    const clients = Array.from({ length: 24 }, () => rawClient(port, 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n'));
    await until(() => opened.length === clients.length, 'the streams');
    // 24 streams, 4 writes per turn: a burst of 60 publishes queues up behind the first.
    const hub = createTopicHub({ writesPerTurn: 4 });
    for (const { stream } of opened) await hub.subscribe(stream, ['room:1']);
    for (let i = 1; i <= 60; i++) void hub.publish('room:1', { data: i });
    const eventsOf = (text: string): string[] => [...text.matchAll(/"data":(\d+)/g)].map((match) => match[1]!);
    await until(() => clients.every((client) => eventsOf(client.text()).length === 60), 'every event at every client');
    const expected = Array.from({ length: 60 }, (_, i) => String(i + 1));
    let chunksWithEvents = 0;
    for (const client of clients) {
      const { chunks, rest } = dechunk(client.text().slice(headEnd(client.text())));
      expect(rest).toBe('');
      for (const chunk of chunks) expect(chunk.endsWith('\n\n')).toBe(true);
      expect(eventsOf(chunks.join(''))).toEqual(expected);
      chunksWithEvents += chunks.filter((chunk) => chunk.includes('"data"')).length;
    }
    // One chunk per event and client would be 1,440.
    expect(chunksWithEvents).toBeLessThan(1_440 / 4);
  });

  it('HTTP/1.0: no chunks to frame, so through res.write; the body is the bare events and ends with the connection', async () => {
    const { port, opened } = await start();
    const client = rawClient(port, 'GET /events HTTP/1.0\r\n\r\n');
    const { stream, res } = await until(() => opened[0], 'the stream');
    expect(sinkWritePath(res)).toBe('response');
    stream.send({ id: '1', data: 'a' });
    await stream.close();
    await client.closed;
    const text = client.text();
    const body = text.slice(headEnd(text));
    // The comment sent at open, then the event, unframed.
    expect(body).toMatch(/^:[^\n]*\n\nid: 1\ndata: a\n\n$/);
    expect(text).not.toMatch(/transfer-encoding/i);
  });

  it('compression middleware (which wraps res.write) gets every byte: through res.write, and the client decodes whole events', async () => {
    const gzip = compression({ threshold: 0 });
    // Without no-transform in the default Cache-Control, compression applies.
    const { port, opened } = await start((req, res, next) => gzip(req as never, res as never, next), { 'cache-control': 'no-cache' });
    const response = fetch(`http://127.0.0.1:${port}/events`, { headers: { 'accept-encoding': 'gzip' } });
    const { stream, res } = await until(() => opened[0], 'the stream');
    expect(sinkWritePath(res)).toBe('response');
    stream.send({ id: '1', data: 'zipped' });
    await stream.close();
    const answer = await response;
    expect(answer.headers.get('content-encoding')).toBe('gzip');
    expect(await answer.text()).toContain('id: 1\ndata: zipped\n\n');
  });

  it('a middleware that wrapped res.write sees every event: through res.write', async () => {
    const seen: string[] = [];
    const { port, opened } = await start((_req, res, next) => {
      const write = res.write.bind(res) as (chunk: Uint8Array) => boolean;
      res.write = ((chunk: Uint8Array) => {
        seen.push(Buffer.from(chunk).toString());
        return write(chunk);
      }) as typeof res.write;
      next();
    });
    const client = rawClient(port, 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    const { stream, res } = await until(() => opened[0], 'the stream');
    expect(sinkWritePath(res)).toBe('response');
    stream.send({ id: '1', data: 'seen' });
    await until(() => client.text().includes('data: seen'), 'the event');
    expect(seen.join('')).toContain('id: 1\ndata: seen\n\n');
  });

  it('HTTP/2: through the response', async () => {
    const opened: Opened[] = [];
    const server = createHttp2Server(sse((stream, _req, res) => void opened.push({ stream, res: res as never }), { keepAlive: false }));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = connectHttp2(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const request = session.request({ ':path': '/events' });
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    const { stream, res } = await until(() => opened[0], 'the stream');
    expect(sinkWritePath(res as never)).toBe('response');
    stream.send({ id: '1', data: 'h2' });
    await until(() => body.includes('data: h2\n\n'), 'the event');
    await stream.close();
    session.destroy();
  });

  it('a client that never reads is cut at maxBufferedBytes on the socket path too', async () => {
    const closes: string[] = [];
    const paths: unknown[] = [];
    const server = createServer(
      sse(
        (stream, _req, res) => {
          paths.push(sinkWritePath(res));
          stream.closed.then(({ reason }) => closes.push(reason), () => {});
          const payload = 'x'.repeat(16_384);
          for (let i = 0; i < 200 && !stream.isClosed; i++) stream.send({ data: payload });
        },
        { keepAlive: false, maxBufferedBytes: 262_144 },
      ),
    );
    const port = await listen(server);
    const stalled = rawClient(port, 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    stalled.socket.pause();
    await until(() => closes.length > 0, 'the slow client cut');
    expect(closes).toEqual(['slow-client']);
    expect(paths).toEqual(['socket']);
    // The server cut the connection: once the client reads again, it ends.
    stalled.socket.resume();
    await stalled.closed;
  });

  it('a client that resets while events are being written leaves cleanly: closed as client, nothing thrown, the server goes on', async () => {
    const closes: string[] = [];
    let sent = 0;
    const server = createServer(
      sse(
        (stream) => {
          stream.closed.then(({ reason }) => closes.push(reason), () => {});
          const timer = setInterval(() => {
            // Bounded by count: 2,000 events at most, whatever the machine's speed.
            if (stream.isClosed || ++sent > 2_000) return clearInterval(timer);
            stream.send({ data: 'y'.repeat(4_096) });
          }, 1);
        },
        { keepAlive: false },
      ),
    );
    const port = await listen(server);
    const client = rawClient(port, 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => client.text().includes('data: yyyy'), 'the first event');
    client.socket.resetAndDestroy();
    await until(() => closes.length === 1, 'the stream to close');
    expect(closes).toEqual(['client']);
    expect(sent).toBeLessThan(2_000);
    const next = rawClient(port, 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => next.text().includes('data: yyyy'), 'a new stream served');
  });
});
