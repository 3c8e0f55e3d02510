// The sample app on Hono, served on Node by @hono/node-server: routes and framework glue only;
// what the routes do is in @sse-example/shared, the same for the Express and Koa apps.
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { sse } from '@sse/hono';
import { createDemo } from '@sse-example/shared';

const demo = createDemo('Hono');
const app = new Hono();

/** The client a `/private` stream counts against: the socket's address (not a forwarded header). */
const clientOf = (c: Context): string => getConnInfo(c).remote.address ?? 'unknown';

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

const server = serve({ fetch: app.fetch, port: demo.config.port }, () => demo.listening(server));
demo.exitOnSignals(server);
