import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import compression from 'compression';
import { listen, expectEventsOneByOne, requestEventStream, type MountedServer } from '@sse/conformance';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SseFormatError, SseHeadersSentError, sse, type EventStream } from '../src/index.js';

const servers: MountedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(listener: RequestListener): Promise<string> {
  const server = await listen(createServer(listener));
  servers.push(server);
  return server.url;
}

function until(condition: () => boolean): Promise<void> {
  return vi.waitFor(() => expect(condition()).toBe(true), { timeout: 10_000, interval: 5 });
}

describe('sse() on plain node:http', () => {
  it('a POST stream stays open after its body was read: disconnect comes from the response, not the request', async () => {
    const streams: EventStream[] = [];
    const requests: IncomingMessage[] = [];
    const url = await start(
      sse(
        async (stream, req) => {
          streams.push(stream);
          requests.push(req);
          let body = '';
          for await (const chunk of req) body += String(chunk);
          stream.send({ data: { received: body } });
        },
        { keepAlive: false },
      ),
    );
    const client = await requestEventStream(url, { method: 'POST', body: 'topic=news' });
    await client.waitForEvents(1);
    // The request emits 'close' once its body was read; a sink listening to it would end here.
    await until(() => requests[0]!.closed);
    expect(streams[0]!.isClosed).toBe(false);
    streams[0]!.send('still open');
    expect((await client.waitForEvents(2)).map((e) => e.data)).toEqual(['{"received":"topic=news"}', 'still open']);
    client.close();
    expect(await streams[0]!.closed).toEqual({ reason: 'client' });
  });

  it('with compression in front, res.flush() after each write delivers every event at once', async () => {
    const streams: EventStream[] = [];
    const compress = compression();
    // Without no-transform, compression applies; only flushing makes events arrive one by one.
    const events = sse((stream) => void streams.push(stream), { keepAlive: false, headers: { 'cache-control': 'no-cache' } });
    // compression is typed for Express, but it is plain (req, res, next) middleware.
    const url = await start((req, res) => compress(req as never, res as never, () => events(req, res)));
    const client = await requestEventStream(url, { headers: { 'accept-encoding': 'gzip' } });
    expect(client.headers['content-encoding']).toBe('gzip');
    await until(() => streams.length === 1);
    await expectEventsOneByOne(client, (n) => streams[0]!.send(`event ${n}`));
    client.close();
  });

  it('keeps headers an earlier listener set (CORS) and drops a Content-Length that would end the stream', async () => {
    const events = sse((stream) => stream.send('hi'), { keepAlive: false });
    const url = await start((req, res) => {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Content-Length', '0');
      events(req, res);
    });
    const client = await requestEventStream(url);
    expect(client.headers['access-control-allow-origin']).toBe('*');
    expect(client.headers['content-length']).toBeUndefined();
    expect((await client.waitForEvents(1)).map((e) => e.data)).toEqual(['hi']);
    client.close();
  });

  it('logs a typed SseHeadersSentError and cuts the connection when the response was already started', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const handler = vi.fn();
    const events = sse(handler);
    const url = await start((req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('started elsewhere');
      events(req, res);
    });
    const client = await requestEventStream(url);
    expect(await client.waitForEnd()).toBe('error');
    expect(handler).not.toHaveBeenCalled();
    expect(consoleError).toHaveBeenCalledTimes(1);
    const error = consoleError.mock.calls[0]![1] as SseHeadersSentError;
    expect(error).toBeInstanceOf(SseHeadersSentError);
    expect(error.state).toBe('headers were already sent with status 200');
  });

  it('answers 500 and logs a typed error for invalid options, before any stream header', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const url = await start(sse(() => undefined, { retry: -1 }));
    const client = await requestEventStream(url);
    await client.waitForEnd();
    expect(client.status).toBe(500);
    expect(client.headers['content-type']).not.toBe('text/event-stream; charset=utf-8');
    expect(consoleError.mock.calls[0]![1]).toBeInstanceOf(SseFormatError);
  });
});
