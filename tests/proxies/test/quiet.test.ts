import { EventSource as PackageEventSource } from 'eventsource';
import { EventSource as UndiciEventSource } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caddy, eventually, hasBinary, startFront, startOrigin, type Front, type Origin } from './fronts.js';

const hasCaddy = hasBinary('caddy', ['version']);

// Caddy's `encode` holds the response head until the first body byte. Before @sse/core wrote a
// comment at open, a stream that sent nothing kept EventSource from firing `open` until its first
// event or keep-alive (15 s by default); with it, `open` fires at once.
describe.skipIf(!hasCaddy)('a quiet stream behind Caddy 2.6 with encode gzip (skipped only when the caddy binary is missing)', () => {
  let origin: Origin;
  let front: Front;
  beforeAll(async () => {
    origin = await startOrigin(); // keepAlive off: nothing but the bytes at open is ever written
    front = await startFront(caddy(['encode gzip']), origin.url, '/events');
  });
  afterAll(async () => {
    await origin?.close();
    await front?.stop();
  });

  for (const kind of ['undici', 'eventsource'] as const) {
    it(`a ${kind} EventSource fires open before any event is sent`, async () => {
      const Source = kind === 'undici' ? UndiciEventSource : PackageEventSource;
      const source = new Source(front.url) as unknown as EventTarget & { close(): void; readyState: number };
      let opens = 0;
      let messages = 0;
      source.addEventListener('open', () => opens++);
      source.addEventListener('message', () => messages++);
      try {
        await eventually(() => opens === 1, `${kind} EventSource open through Caddy`, () => `readyState ${source.readyState}, ${origin.streams.length} streams`);
        expect(source.readyState).toBe(1);
        expect(messages).toBe(0);
        // One comment per stream so far (the one at open), and no event.
        expect(origin.registry.counters()).toMatchObject({ eventsWritten: 0, commentsWritten: origin.streams.length });
      } finally {
        source.close();
      }
    });
  }
});
