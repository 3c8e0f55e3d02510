// The sample app on Express 5: routes and framework glue only; what the routes do is in
// @sse-example/shared, the same for the Hono and Koa apps.
import express, { type Request } from 'express';
import { sse } from '@sse/express';
import { createDemo } from '@sse-example/shared';

const demo = createDemo('Express');
const app = express();
app.disable('x-powered-by');

/** The client a `/private` stream counts against. Behind a proxy, set Express's `trust proxy`. */
const clientOf = (req: Request): string => req.ip ?? 'unknown';

/** The `:room` of a rooms route. */
const roomOf = (req: Request): string | undefined => (typeof req.params.room === 'string' ? req.params.room : undefined);

for (const asset of demo.page) {
  app.get(asset.path, (_req, res) => {
    res.set(asset.headers).send(asset.body);
  });
}

app.get('/sse', sse((stream) => demo.live(stream), demo.streamOptions));
app.get('/chat', sse((stream) => demo.chat(stream), demo.streamOptions));
app.get(
  '/private',
  sse((stream) => demo.privateStream(stream), {
    ...demo.privateStreamOptions,
    clientKey: clientOf,
    authorize: (req) => demo.authorizePrivate({ authorization: req.headers.authorization, url: req.originalUrl }),
  }),
);
app.get(
  '/events',
  sse((stream) => demo.roomsJoined(stream), {
    ...demo.streamOptions,
    topics: demo.roomsTopics((req) => req.originalUrl),
  }),
);
app.get(
  '/rooms/:room/events',
  sse((stream) => demo.roomsJoined(stream), {
    ...demo.streamOptions,
    topics: demo.roomTopics(roomOf),
  }),
);
app.get('/metrics', (_req, res) => {
  const reply = demo.metrics();
  res.set(reply.headers).send(reply.body);
});

app.post('/messages', async (req, res) => {
  const reply = await demo.postMessage(req.headers['content-type'], req);
  res.status(reply.status).set(reply.headers).json(reply.body);
});

app.post('/rooms/:room/messages', async (req, res) => {
  const reply = await demo.postRoomMessage(roomOf(req), req.headers['content-type'], req);
  res.status(reply.status).set(reply.headers).json(reply.body);
});

const server = app.listen(demo.config.port, (error) => {
  if (error) throw error;
  demo.listening(server);
});
demo.exitOnSignals(server);
