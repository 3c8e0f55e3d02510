import { createChannel, createStreamRegistry } from '@sse/core';
import { describe, expect, it } from 'vitest';
import { openStream, rawRequest } from './clients.js';
import { adapters } from './servers.js';

async function rawExchange(url: string, head: Buffer | string): Promise<string> {
  const { socket, received } = await rawRequest(url, head);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    socket.on('data', () => {
      if (/\r\n\r\n/.test(received()) && /data: /.test(received())) {
        clearTimeout(timer);
        resolve();
      }
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.destroy();
  return received();
}

describe.each(Object.entries(adapters))('hostile input on %s', (_name, mount) => {
  it('answers each bad request clearly and keeps serving', async () => {
    const registry = createStreamRegistry();
    const channel = createChannel({ history: 10 });
    await channel.broadcast('kept');
    const server = await mount(
      (stream) => {
        channel.subscribe(stream, {
          onReplay: (result) => stream.send({ event: 'replay', data: { status: result.status, id: stream.lastEventId ?? null } }),
        });
      },
      { registry, keepAlive: false },
    );
    const { pathname } = new URL(server.url);
    try {
      // Over-long Last-Event-ID: ignored, the stream opens as a first connection.
      const long = openStream(server.url, { 'last-event-id': 'x'.repeat(5_000) });
      expect((await long.response).statusCode).toBe(200);
      await expect.poll(() => long.events[0]?.data).toBe('{"status":"none","id":null}');
      long.destroy();

      // Invalid UTF-8 bytes in Last-Event-ID: decoded with U+FFFD, reported as unknown.
      const invalid = Buffer.concat([
        Buffer.from(`GET ${pathname} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nLast-Event-ID: `),
        Buffer.from([0xff, 0xfe, 0x41]),
        Buffer.from('\r\n\r\n'),
      ]);
      const answer = await rawExchange(server.url, invalid);
      expect(answer).toMatch(/^HTTP\/1\.1 200/);
      expect(answer).toContain('"status":"unknown"');
      expect(Buffer.from(answer, 'latin1').toString('utf8')).toContain('\ufffd\ufffdA');

      // A foreign, well-formed id: unknown, so the app can send a refresh.
      const foreign = openStream(server.url, { 'last-event-id': 'not-from-here-42' });
      await expect.poll(() => foreign.events[0]?.data).toContain('"unknown"');
      foreign.destroy();

      // Invalid percent-encoding in the query fallback.
      const query = openStream(`${server.url}?lastEventId=%FF%FE`);
      expect((await query.response).statusCode).toBe(200);
      await expect.poll(() => query.events[0]?.data).toContain('"unknown"');
      query.destroy();

      // Wrong Accept: 406 with a plain-text reason, no stream.
      const json = openStream(server.url, { accept: 'application/json' });
      const refused = await json.response;
      expect(refused.statusCode).toBe(406);
      expect(refused.headers['content-type']).toMatch(/^text\/plain/);

      // A query string far beyond the header limit: Node answers 431, nothing reaches the handler.
      const huge = await rawExchange(server.url, `GET ${pathname}?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(huge).toMatch(/^HTTP\/1\.1 431/);

      // A header with a raw NUL: rejected by the HTTP parser with 400.
      const nul = await rawExchange(server.url, Buffer.from(`GET ${pathname} HTTP/1.1\r\nHost: x\r\nLast-Event-ID: a\u0000b\r\n\r\n`, 'latin1'));
      expect(nul).toMatch(/^HTTP\/1\.1 400/);

      // Still serving.
      const healthy = openStream(server.url);
      expect((await healthy.response).statusCode).toBe(200);
      await expect.poll(() => healthy.events.length).toBe(1);
      healthy.destroy();
      expect(registry.counters().closedBy.error).toBe(0);
    } finally {
      await server.close();
    }
  });
});
