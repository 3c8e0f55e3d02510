// The sample app's routes on Hono, the same on every runtime: server.ts serves them on Node,
// server.bun.ts on Bun and server.deno.ts on Deno. What the routes do is in @sse-example/shared,
// the same for the Express, Fastify and Koa apps.
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { sse } from '@sse/hono';
import type { Demo } from '@sse-example/shared';

/**
 * The app's routes. `clientOf` names the client a `/private` stream counts against: the
 * socket's address (not a forwarded header), read by the runtime's own `getConnInfo`.
 */
export function createApp(demo: Demo, clientOf: (c: Context) => string): Hono {
  const app = new Hono();

  for (const asset of demo.page) {
    app.get(asset.path, (c) => c.body(asset.body, 200, asset.headers));
  }

  app.get('/sse', sse((stream) => demo.live(stream), demo.streamOptions));
  app.get('/chat', sse((stream) => demo.chat(stream), demo.streamOptions));
  app.get(
    '/private',
    sse((stream) => demo.privateStream(stream), {
      ...demo.privateStreamOptions,
      clientKey: clientOf,
      authorize: (c) => demo.authorizePrivate({ authorization: c.req.header('authorization'), url: c.req.url }),
    }),
  );
  app.get(
    '/events',
    sse((stream) => demo.roomsJoined(stream), {
      ...demo.streamOptions,
      topics: demo.roomsTopics((c: Context) => c.req.url),
    }),
  );
  app.get(
    '/rooms/:room/events',
    sse((stream) => demo.roomsJoined(stream), {
      ...demo.streamOptions,
      topics: demo.roomTopics((c: Context) => c.req.param('room')),
    }),
  );
  app.get('/metrics', (c) => {
    const reply = demo.metrics();
    return c.body(reply.body, 200, reply.headers);
  });

  app.post('/messages', async (c) => {
    const reply = await demo.postMessage(c.req.header('content-type'), c.req.raw.body);
    return c.json(reply.body, reply.status as ContentfulStatusCode, reply.headers);
  });

  app.post('/rooms/:room/messages', async (c) => {
    const reply = await demo.postRoomMessage(c.req.param('room'), c.req.header('content-type'), c.req.raw.body);
    return c.json(reply.body, reply.status as ContentfulStatusCode, reply.headers);
  });

  return app;
}
