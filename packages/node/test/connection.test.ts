import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { connect as connectHttp2, createServer as createHttp2Server } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { listen, type MountedServer } from '@sse/conformance';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeOnClientFin, waitForTurn } from '../src/adapter.js';
import { sse, type CloseInfo, type EventStream } from '../src/index.js';

const servers: MountedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(listener: RequestListener, configure: (server: Server) => void = () => undefined): Promise<URL> {
  const server = createServer(listener);
  configure(server);
  const mounted = await listen(server);
  servers.push(mounted);
  return new URL(mounted.url);
}

function until(condition: () => boolean): Promise<void> {
  return vi.waitFor(() => expect(condition()).toBe(true), { timeout: 10_000, interval: 5 });
}

/** A raw client: sends exactly these bytes, collects what comes back. */
async function raw(url: URL, bytes: string): Promise<{ socket: Socket; received: () => string; closed: () => boolean }> {
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  socket.once('close', () => (closed = true));
  socket.write(bytes);
  return { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed: () => closed };
}

const get = (extra = ''): string => `GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n${extra}\r\n`;

describe('waitForTurn(req, res)', () => {
  it('a pipelined request waits until the response before it finished, and learns when its client left first', async () => {
    const seen: string[] = [];
    const turns: boolean[] = [];
    const responses: ServerResponse[] = [];
    const url = await start((req, res) => {
      responses.push(res);
      const turn = waitForTurn(req, res);
      seen.push(turn === true ? 'now' : 'waiting');
      if (turn !== true) void turn.then((ready) => turns.push(ready));
    });
    const client = await raw(url, get().repeat(3));
    await until(() => seen.length === 3);
    expect(seen).toEqual(['now', 'waiting', 'waiting']);
    expect(responses[1]!.socket).toBeNull();
    responses[0]!.end();
    // The second response got the socket; the third still waits behind it.
    await until(() => turns.length === 1);
    expect(turns).toEqual([true]);
    expect(responses[1]!.socket).not.toBeNull();
    client.socket.destroy();
    await until(() => turns.length === 2);
    expect(turns).toEqual([true, false]);
  });

  it('more than 4 requests waiting on one connection: the connection is destroyed and none of them is served', async () => {
    const seen: string[] = [];
    const turns: boolean[] = [];
    const url = await start((req, res) => {
      const turn = waitForTurn(req, res);
      seen.push(turn === true ? 'now' : 'waiting');
      if (turn !== true) void turn.then((ready) => turns.push(ready));
    });
    const client = await raw(url, get().repeat(6));
    await until(() => client.closed() && turns.length === 5);
    expect(seen).toEqual(['now', 'waiting', 'waiting', 'waiting', 'waiting', 'waiting']);
    expect(turns).toEqual([false, false, false, false, false]);
  });

  it('is always the turn of an HTTP/2 response (no pipelining there)', async () => {
    const turns: unknown[] = [];
    const server = createHttp2Server((req, res) => {
      turns.push(waitForTurn(req, res));
      res.end();
    });
    const mounted = await listen(server);
    servers.push(mounted);
    const session = connectHttp2(new URL(mounted.url).origin);
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        stream.on('error', reject);
        stream.on('close', () => resolve());
        stream.resume();
      });
      expect(turns).toEqual([true]);
    } finally {
      session.close();
    }
  });
});

describe('closeOnClientFin: a half-closed client on a server with httpAllowHalfOpen', () => {
  // Not in @types/node 20, but read by Node 20's server on every FIN (lib/_http_server.js socketOnEnd).
  const halfOpen = (server: Server): void => {
    (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  };

  it('a GET stream closes with reason client when the FIN arrives, with no write', async () => {
    const closes: CloseInfo[] = [];
    const url = await start(
      sse((stream) => void stream.closed.then((info) => closes.push(info)), { keepAlive: false }),
      halfOpen,
    );
    const client = await raw(url, get());
    await until(() => client.received().includes('\r\n\r\n'));
    client.socket.end();
    await until(() => closes.length === 1 && client.closed());
    expect(closes).toEqual([{ reason: 'client' }]);
  });

  it('a GET stream whose FIN arrived before it opened (slow authorize) closes at once', async () => {
    const closes: CloseInfo[] = [];
    const url = await start(
      sse((stream) => void stream.closed.then((info) => closes.push(info)), {
        keepAlive: false,
        authorize: async (req) => {
          await until(() => req.socket.readableEnded);
          return true;
        },
      }),
      halfOpen,
    );
    const client = await raw(url, get());
    client.socket.end();
    await until(() => closes.length === 1 && client.closed());
    expect(closes).toEqual([{ reason: 'client' }]);
  });

  it('a POST stream stays open after its body and the FIN: the client still reads what it is sent', async () => {
    const streams: EventStream[] = [];
    const url = await start(
      sse(
        async (stream, req) => {
          let body = '';
          for await (const chunk of req) body += String(chunk);
          streams.push(stream);
          stream.send(`got ${body}`);
        },
        { keepAlive: false },
      ),
      halfOpen,
    );
    const client = await raw(url, 'POST / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nContent-Length: 5\r\n\r\nhello');
    client.socket.end();
    await until(() => client.received().includes('data: got hello'));
    // The FIN reached the server before this send; the stream is still open and delivers it.
    streams[0]!.send('after fin');
    await until(() => client.received().includes('data: after fin'));
    expect(streams[0]!.isClosed).toBe(false);
    // Node marked the response as the connection's last: ending the stream closes the socket.
    streams[0]!.close();
    expect(await streams[0]!.closed).toEqual({ reason: 'server' });
    await until(client.closed);
    expect(client.received()).toMatch(/\r\n0\r\n\r\n$/);
  });

  it('leaves nothing on a keep-alive socket once the response finished: the next requests are served', async () => {
    const endListeners: number[] = [];
    const url = await start((req: IncomingMessage, res: ServerResponse) => {
      endListeners.push(req.socket.listenerCount('end'));
      closeOnClientFin(req, res);
      res.end(`run ${endListeners.length}`);
    }, halfOpen);
    const client = await raw(url, `GET / HTTP/1.1\r\nHost: x\r\n\r\n`);
    for (let run = 2; run <= 12; run++) {
      await until(() => client.received().includes(`run ${run - 1}`));
      client.socket.write(`GET / HTTP/1.1\r\nHost: x\r\n\r\n`);
    }
    await until(() => client.received().includes('run 12'));
    // No listener piles up on the socket, and a FIN after a finished response cuts nothing short.
    expect(new Set(endListeners).size).toBe(1);
    client.socket.end(`GET / HTTP/1.1\r\nHost: x\r\n\r\n`);
    await until(() => client.received().includes('run 13') && client.closed());
  });
});

describe('the sink on a keep-alive socket', () => {
  it('streams that end one after another on one socket leave no FIN listener behind', async () => {
    const endListeners: number[] = [];
    const url = await start(
      sse(
        (stream, req) => {
          endListeners.push(req.socket.listenerCount('end'));
          stream.send(`run ${endListeners.length}`);
          stream.close();
        },
        { keepAlive: false },
      ),
    );
    const client = await raw(url, get());
    for (let run = 2; run <= 12; run++) {
      await until(() => client.received().includes(`data: run ${run - 1}`) && /\r\n0\r\n\r\n$/.test(client.received()));
      client.socket.write(get());
    }
    await until(() => client.received().includes('data: run 12'));
    expect(new Set(endListeners).size).toBe(1);
    expect(client.closed()).toBe(false);
  });
});

describe('an idle stream on a default server (no httpAllowHalfOpen)', () => {
  it("adds no listener to its socket (Node's own 'end' and 'drain' ones stay alone), and the client's FIN still closes it", async () => {
    const counts: Array<{ end: number; drain: number }> = [];
    const closes: CloseInfo[] = [];
    const url = await start((req: IncomingMessage, res: ServerResponse) => {
      const before = { end: req.socket.listenerCount('end'), drain: req.socket.listenerCount('drain') };
      sse((stream) => void stream.closed.then((info) => closes.push(info)), { keepAlive: false })(req, res);
      // The stream opens in a later microtask: count once the head is out.
      void new Promise((resolve) => setImmediate(resolve)).then(() => {
        counts.push(before, { end: req.socket.listenerCount('end'), drain: req.socket.listenerCount('drain') });
      });
    });
    const client = await raw(url, get());
    await until(() => client.received().includes('\r\n\r\n') && counts.length === 2);
    expect(counts[1]).toEqual(counts[0]);
    client.socket.end();
    await until(() => closes.length === 1 && client.closed());
    expect(closes).toEqual([{ reason: 'client' }]);
  });
});

describe('Connection header on HTTP/1.x', () => {
  it('a Connection: keep-alive given in headers is not forced on a client that asked for close', async () => {
    const url = await start(
      sse(
        (stream) => {
          stream.send('bye');
          stream.close();
        },
        { keepAlive: false, headers: { Connection: 'keep-alive' } },
      ),
    );
    const client = await raw(url, get('Connection: close\r\n'));
    await until(client.closed);
    expect(client.received()).toMatch(/\r\nconnection: close\r\n/i);
    expect(client.received()).not.toMatch(/keep-alive/i);
  });

  it('a Connection: close given in headers is honoured: the socket closes after stream.close()', async () => {
    const url = await start(
      sse(
        (stream) => {
          stream.send('bye');
          stream.close();
        },
        { keepAlive: false, headers: { connection: 'close' } },
      ),
    );
    const client = await raw(url, get());
    await until(client.closed);
    expect(client.received()).toMatch(/\r\nconnection: close\r\n/i);
    expect(client.received()).toContain('data: bye');
  });
});
