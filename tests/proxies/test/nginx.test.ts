import { requestEventStream, type EventStreamClient } from '@sse/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontCases } from './cases.js';
import { eventually, hasBinary, nginx, NGINX_SSE_CONFIG, report, startFront, startOrigin, type Front, type Origin } from './fronts.js';

const hasNginx = hasBinary('nginx', ['-v']);

describe.skipIf(!hasNginx)('nginx 1.22 in front (skipped only when the nginx binary is missing: npm test installs it from apt)', () => {
  // proxy_pass only: proxy_buffering on and HTTP/1.0 to the origin. The origin's
  // `X-Accel-Buffering: no` turns the buffering off for its responses, so events still stream.
  describe('with its default proxy settings (proxy_pass only)', () => {
    frontCases({ label: 'nginx defaults', spec: nginx(''), upstreamHttpVersion: '1.0', departure: 'at-once' });
  });

  describe('with the SSE config the docs recommend', () => {
    frontCases({ label: 'nginx SSE config', spec: nginx(NGINX_SSE_CONFIG), upstreamHttpVersion: '1.1', departure: 'at-once' });
  });

  // What the defaults do when the header does not get through (a front that ignores it, an app
  // that overrides it): nginx buffers the response, head included, until the stream ends.
  describe('with its defaults and proxy_ignore_headers X-Accel-Buffering', () => {
    let origin: Origin;
    let front: Front;
    beforeAll(async () => {
      origin = await startOrigin();
      front = await startFront(nginx('      proxy_ignore_headers X-Accel-Buffering;'), origin.url, '/events');
    });
    afterAll(async () => {
      await origin?.close();
      await front?.stop();
    });

    it('delivers the events held back in its buffer once the stream ends (what it held before is printed)', async () => {
      let client: EventStreamClient | undefined;
      const pending = requestEventStream(front.url).then((c) => (client = c));
      await eventually(() => origin.streams.length === 1, 'the origin to open a stream');
      const stream = origin.streams[0]!;
      for (let n = 1; n <= 3; n++) stream.send({ id: String(n), data: `event ${n}` });
      // A pause for the figure only: nothing below depends on it.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      report('nginx defaults with X-Accel-Buffering ignored: 1 s after 3 events, the client had', client === undefined ? 'no response head' : `${client.events.length} events`);
      stream.close();
      const received = await pending;
      expect(await received.waitForEnd()).toBe('end');
      expect(received.events.map((e) => e.data)).toEqual(['event 1', 'event 2', 'event 3']);
    });
  });
});
