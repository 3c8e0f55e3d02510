// The sample app on Fastify 5: routes and framework glue only; what the routes do is in
// @sse-example/shared, the same for the Express, Hono and Koa apps.
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { sse } from '@sse/fastify';
import { createDemo, type JsonReply } from '@sse-example/shared';

const demo = createDemo('Fastify');
const app = Fastify();

/** The client a `/private` stream counts against. Behind a proxy, set Fastify's `trustProxy`. */
const clientOf = (request: FastifyRequest): string => request.ip || 'unknown';

/** The `:room` of a rooms route. */
const roomOf = (request: FastifyRequest): string | undefined => {
  const { room } = request.params as { room?: unknown };
  return typeof room === 'string' ? room : undefined;
};

/** Sends what a shared route answered, as it is (its body already JSON or text). */
const send = (reply: FastifyReply, answer: JsonReply): FastifyReply => reply.code(answer.status).headers(answer.headers).send(answer.body);

for (const asset of demo.page) {
  app.get(asset.path, (_request, reply) => reply.headers(asset.headers).send(asset.body));
}

app.get('/sse', sse((stream) => demo.live(stream), demo.streamOptions));
app.get('/chat', sse((stream) => demo.chat(stream), demo.streamOptions));
app.get(
  '/private',
  sse((stream) => demo.privateStream(stream), {
    ...demo.privateStreamOptions,
    clientKey: clientOf,
    authorize: (request) => demo.authorizePrivate({ authorization: request.headers.authorization, url: request.url }),
  }),
);
app.get(
  '/events',
  sse((stream) => demo.roomsJoined(stream), {
    ...demo.streamOptions,
    topics: demo.roomsTopics((request) => request.url),
  }),
);
app.get(
  '/rooms/:room/events',
  sse((stream) => demo.roomsJoined(stream), {
    ...demo.streamOptions,
    topics: demo.roomTopics(roomOf),
  }),
);
app.get('/metrics', (_request, reply) => {
  const answer = demo.metrics();
  return reply.headers(answer.headers).send(answer.body);
});

// The posts read their own body (its size and type checks are the shared app's, the same on
// every framework): Fastify's parsers leave it unread in these routes.
await app.register(async (posts) => {
  posts.removeAllContentTypeParsers();
  posts.addContentTypeParser('*', (_request, _payload, done) => done(null));
  posts.post('/messages', async (request, reply) => send(reply, await demo.postMessage(request.headers['content-type'], request.raw)));
  posts.post('/rooms/:room/messages', async (request, reply) =>
    send(reply, await demo.postRoomMessage(roomOf(request), request.headers['content-type'], request.raw)),
  );
});

// Every interface, as the other apps (node:http's default): IPv6 and IPv4, or IPv4 alone where there is no IPv6.
await app.listen({ port: demo.config.port, host: '::' }).catch((error: NodeJS.ErrnoException) => {
  if (error.code !== 'EAFNOSUPPORT' && error.code !== 'EADDRNOTAVAIL') throw error;
  return app.listen({ port: demo.config.port, host: '0.0.0.0' });
});
demo.listening(app.server);
demo.exitOnSignals(app.server);
