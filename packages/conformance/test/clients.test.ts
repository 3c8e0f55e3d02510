// The test clients themselves, against a plain node:http server that writes frames by hand: what
// each one reads, sends and reports, so that a suite built on them fails for the right reason.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRawSocket, listen, openEventStream, readEventStream, requestEventStream, type MountedServer } from '../src/index.js';

interface Held {
  req: IncomingMessage;
  res: ServerResponse;
  /** How the server saw the connection go: a FIN (`'end'`), a reset (the error code) or just closed. */
  gone: Promise<string>;
}

let server: MountedServer | undefined;
const held: Held[] = [];

afterEach(async () => {
  held.length = 0;
  await server?.close();
  server = undefined;
});

/** `/refuse` answers 429; anything else opens a stream whose first event echoes the request's `Last-Event-ID`. */
async function start(): Promise<string> {
  server = await listen(
    createServer((req, res) => {
      if (req.url === '/refuse') {
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '5' }).end('busy');
        return;
      }
      const gone = new Promise<string>((resolve) => {
        req.socket.once('end', () => resolve('end'));
        req.socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        req.socket.once('close', () => resolve('close'));
      });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`retry: 500\n: hello\n\nevent: echo\ndata: ${req.headers['last-event-id'] ?? '(none)'}\n\n`);
      held.push({ req, res, gone });
    }),
  );
  return server.url;
}

async function heldStream(): Promise<Held> {
  for (let n = 0; n < 1_000 && held.length === 0; n++) await new Promise((resolve) => setImmediate(resolve));
  const stream = held.at(-1);
  if (stream === undefined) throw new Error('the server never got the request');
  return stream;
}

describe('requestEventStream', () => {
  it('sends Accept and Last-Event-ID, and parses events, comments, retry and text as they arrive', async () => {
    const client = await requestEventStream(await start(), { lastEventId: 'seen-7' });
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream');
    const echo = await client.waitForEvent((event) => event.event === 'echo');
    expect(echo.data).toBe('seen-7');
    const { req, res } = await heldStream();
    expect(req.headers.accept).toBe('text/event-stream');
    res.write('id: 2\ndata: two\n\n');
    expect(await client.waitForEvent((event) => event.id === '2')).toMatchObject({ data: 'two' });
    // An event already received is found again, not only those still to come.
    expect((await client.waitForEvent((event) => event.event === 'echo')).data).toBe('seen-7');
    expect(client.retries).toEqual([500]);
    expect(client.comments).toEqual(['hello']);
    expect(client.text).toContain('data: two\n\n');
    expect(client.outcome).toBeUndefined();
    client.close();
  });

  it('settles `ended` with how the body ended, and waitForEvent fails at once when it ends without a match', async () => {
    const url = await start();
    const clean = await requestEventStream(url);
    (await heldStream()).res.end('data: last\n\n');
    await expect(clean.waitForEvent((event) => event.data === 'never', 'the never event')).rejects.toThrow(
      /the body ended \(end\) without the never event.*"echo","message"/,
    );
    expect(await clean.ended).toBe('end');
    expect(clean.events.map((event) => event.data)).toEqual(['(none)', 'last']);

    held.length = 0;
    const cut = await requestEventStream(url);
    (await heldStream()).res.destroy();
    expect(await cut.ended).toBe('error');
    expect(await cut.waitForEnd()).toBe('error');
  });

  it('in light mode keeps the events but no text and no comments', async () => {
    const client = await requestEventStream(await start(), { light: true });
    await client.waitForEvents(1);
    expect(client.events[0]?.data).toBe('(none)');
    expect(client.retries).toEqual([500]);
    expect(client.bytes).toBeGreaterThan(0);
    expect(client.text).toBe('');
    expect(client.comments).toEqual([]);
    client.close();
  });

  it('fails a wait after timeoutMs with what it received', async () => {
    const client = await requestEventStream(await start(), { timeoutMs: 200 });
    await expect(client.waitForEvents(2)).rejects.toThrow(/gave up waiting for 2 events after 200 ms; got 1 events/);
    client.close();
  });

  it('close() sends a FIN, reset() a TCP reset', async () => {
    const url = await start();
    const closing = await requestEventStream(url);
    const closed = await heldStream();
    closing.close();
    expect(await closed.gone).toBe('end');

    held.length = 0;
    const resetting = await requestEventStream(url);
    const reset = await heldStream();
    resetting.reset();
    expect(await reset.gone).toBe('ECONNRESET');
    expect(await resetting.ended).toBe('error');
  });
});

describe('openEventStream', () => {
  it('resolves with an open event stream', async () => {
    const client = await openEventStream(await start());
    expect((await client.waitForEvents(1))[0]?.event).toBe('echo');
    client.close();
  });

  it('rejects, saying what came, unless the answer is a 200 event stream', async () => {
    const url = await start();
    await expect(openEventStream(new URL('/refuse', url).href)).rejects.toThrow(/expected an event stream from .*\/refuse, got 429 text\/plain/);
  });
});

describe('connectRawSocket', () => {
  it('sends the given head byte for byte and reads the status line, headers and events', async () => {
    const url = await start();
    const { host, pathname } = new URL(url);
    const head = Buffer.concat([Buffer.from(`GET ${pathname} HTTP/1.1\r\nHost: ${host}\r\nLast-Event-ID: `), Buffer.from([0xc3, 0xa9]), Buffer.from('\r\n\r\n')]);
    const client = await connectRawSocket(url, { head });
    expect(client.statusLine).toBe('HTTP/1.1 200 OK');
    expect(client.headers['transfer-encoding']).toBe('chunked');
    // Node reads header bytes as latin1: the two UTF-8 bytes come back as two characters, re-encoded.
    expect((await client.waitForEvents(1))[0]?.data).toBe('Ã©');
    client.close();
  });

  it('without waiting for the head, pause() and end() make a half-open client: the server sees a FIN', async () => {
    const client = await connectRawSocket(await start(), { waitForHead: false });
    client.pause();
    const stream = await heldStream();
    expect(client.status).toBe(0);
    client.end();
    expect(await stream.gone).toBe('end');
    client.close();
  });
});

describe('readEventStream', () => {
  const encoder = new TextEncoder();

  function body(): { response: Response; push(text: string): void; end(): void; fail(): void; cancelled: Promise<unknown> } {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let cancelled!: (reason: unknown) => void;
    const cancelledPromise = new Promise((resolve) => (cancelled = resolve));
    const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c), cancel: (reason) => cancelled(reason ?? 'cancelled') });
    return {
      response: new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
      push: (text) => controller.enqueue(encoder.encode(text)),
      end: () => controller.close(),
      fail: () => controller.error(new Error('cut')),
      cancelled: cancelledPromise,
    };
  }

  it('parses a Response body as it is pulled, and tells a clean end from a cut one', async () => {
    const clean = body();
    const client = readEventStream(clean.response);
    expect([client.status, client.headers.get('content-type')]).toEqual([200, 'text/event-stream']);
    clean.push('id: 1\ndata: one\n\n');
    expect((await client.waitForEvents(1))[0]).toMatchObject({ id: '1', data: 'one' });
    clean.push('data: t');
    clean.push('wo\n\n');
    clean.end();
    expect(await client.ended).toBe('end');
    expect(client.events.map((event) => event.data)).toEqual(['one', 'two']);

    const cut = body();
    const broken = readEventStream(cut.response);
    cut.fail();
    expect(await broken.ended).toBe('error');
  });

  it('close() cancels the body', async () => {
    const open = body();
    const client = readEventStream(open.response);
    open.push('data: x\n\n');
    await client.waitForEvents(1);
    await client.close();
    expect(await open.cancelled).toBe('cancelled');
  });
});
