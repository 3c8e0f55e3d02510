import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBinary, nginxHttp2, startFront, startOrigin, WAIT_MS, type Front, type Origin } from './fronts.js';

const canRun = hasBinary('nginx', ['-v']) && hasBinary('openssl', ['version']);

// nginx 1.22 as an HTTP/2 + TLS front holds the response head until the first body byte, as
// Caddy's `encode` does: a quiet stream's head reaches an HTTP/2 client only thanks to the bytes
// @sse/core writes at open.
describe.skipIf(!canRun)('a quiet stream behind nginx 1.22 over HTTP/2 + TLS (skipped only when nginx or openssl is missing)', () => {
  let origin: Origin;
  let front: Front;
  const sessions: ClientHttp2Session[] = [];
  beforeAll(async () => {
    origin = await startOrigin(); // keepAlive off, no retry: only the bytes at open are written
    front = await startFront(nginxHttp2(), origin.url, '/events');
  });
  afterAll(async () => {
    for (const session of sessions.splice(0)) session.destroy();
    await origin?.close();
    await front?.stop();
  });

  it('an HTTP/2 client gets status 200 and the event-stream head before any event is sent', async () => {
    const url = new URL(front.url);
    const session = connect(`https://127.0.0.1:${url.port}`, { rejectUnauthorized: false });
    sessions.push(session);
    session.on('error', () => undefined);
    const request = session.request({ [constants.HTTP2_HEADER_PATH]: url.pathname, accept: 'text/event-stream' });
    request.on('error', () => undefined);
    const head = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response head over HTTP/2 after ${WAIT_MS} ms (${origin.streams.length} streams open at the origin)`)), WAIT_MS);
      request.once('response', (headers) => {
        clearTimeout(timer);
        resolve(headers);
      });
    });
    expect(head[':status']).toBe(200);
    expect(head['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(origin.registry.counters().eventsWritten).toBe(0);
    request.close();
  });
});
