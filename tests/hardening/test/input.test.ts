import { createChannel, createStreamRegistry } from '@sse/core';
import { describe, expect, it } from 'vitest';
import { connectRawSocket, requestEventStream, type RawSocketClient } from '@sse/conformance';
import { adapters } from './servers.js';

/** Sends `head` byte for byte and waits for the response head; the caller closes the client. */
function rawExchange(url: string, head: Buffer | string): Promise<RawSocketClient> {
  return connectRawSocket(url, { head });
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
      const long = await requestEventStream(server.url, { lastEventId: 'x'.repeat(5_000) });
      expect(long.status).toBe(200);
      expect((await long.waitForEvents(1))[0]?.data).toBe('{"status":"none","id":null}');
      long.close();

      // Invalid UTF-8 bytes in Last-Event-ID: decoded with U+FFFD, reported as unknown.
      const invalid = Buffer.concat([
        Buffer.from(`GET ${pathname} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nLast-Event-ID: `),
        Buffer.from([0xff, 0xfe, 0x41]),
        Buffer.from('\r\n\r\n'),
      ]);
      const answer = await rawExchange(server.url, invalid);
      expect(answer.statusLine).toMatch(/^HTTP\/1\.1 200/);
      // The client is told in band first (the gap event), then the app's own event from onReplay.
      const [gap, replay] = await answer.waitForEvents(2);
      expect(gap?.event).toBe('sse-gap');
      expect(replay?.data).toContain('"status":"unknown"');
      expect(replay?.data).toContain('\ufffd\ufffdA');
      answer.close();

      // A foreign, well-formed id: unknown, so the app can send a refresh.
      const foreign = await requestEventStream(server.url, { lastEventId: 'not-from-here-42' });
      expect((await foreign.waitForEvent((e) => e.event === 'replay')).data).toContain('"unknown"');
      expect(foreign.events[0]).toMatchObject({ event: 'sse-gap', data: '{"reason":"unknown-id","lastEventId":"not-from-here-42"}' });
      foreign.close();

      // Invalid percent-encoding in the query fallback.
      const query = await requestEventStream(`${server.url}?lastEventId=%FF%FE`);
      expect(query.status).toBe(200);
      expect((await query.waitForEvent((e) => e.event === 'replay')).data).toContain('"unknown"');
      query.close();

      // Wrong Accept: 406 with a plain-text reason, no stream.
      const refused = await requestEventStream(server.url, { headers: { accept: 'application/json' } });
      expect(refused.status).toBe(406);
      expect(refused.headers['content-type']).toMatch(/^text\/plain/);
      refused.close();

      // A query string far beyond the header limit: Node answers 431, nothing reaches the handler.
      const huge = await rawExchange(server.url, `GET ${pathname}?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(huge.statusLine).toMatch(/^HTTP\/1\.1 431/);
      huge.close();

      // A header with a raw NUL: rejected by the HTTP parser with 400.
      const nul = await rawExchange(server.url, Buffer.from(`GET ${pathname} HTTP/1.1\r\nHost: x\r\nLast-Event-ID: a\u0000b\r\n\r\n`, 'latin1'));
      expect(nul.statusLine).toMatch(/^HTTP\/1\.1 400/);
      nul.close();

      // Still serving.
      const healthy = await requestEventStream(server.url);
      expect(healthy.status).toBe(200);
      await healthy.waitForEvents(1);
      expect(healthy.events).toHaveLength(1);
      healthy.close();
      expect(registry.counters().closedBy.error).toBe(0);
    } finally {
      await server.close();
    }
  });
});
