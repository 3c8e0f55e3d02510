// The sample app on Koa 3: routes and framework glue only; what the routes do is in
// @sse-example/shared, the same for the Express and Hono apps.
import Koa, { type Context } from 'koa';
import Router from '@koa/router';
import { sse } from '@sse/koa';
import { createDemo } from '@sse-example/shared';

const demo = createDemo('Koa');
const router = new Router();

/** The client a `/private` stream counts against. Behind a proxy, set `app.proxy = true`. */
const clientOf = (ctx: Context): string => ctx.ip || 'unknown';

/** The `:room` of a rooms route (a repeated parameter is no room name). */
const roomOf = (ctx: Context): string | undefined => (typeof ctx.params.room === 'string' ? ctx.params.room : undefined);

for (const asset of demo.page) {
  router.get(asset.path, (ctx) => {
    ctx.set(asset.headers);
    ctx.body = asset.body;
  });
}

router.get('/sse', sse((stream) => demo.live(stream), demo.streamOptions));
router.get('/chat', sse((stream) => demo.chat(stream), demo.streamOptions));
router.get(
  '/private',
  sse((stream) => demo.privateStream(stream), {
    ...demo.privateStreamOptions,
    clientKey: clientOf,
    authorize: (ctx) => demo.authorizePrivate({ authorization: ctx.get('authorization') || undefined, url: ctx.url }),
  }),
);
router.get(
  '/events',
  sse((stream) => demo.roomsJoined(stream), {
    ...demo.streamOptions,
    topics: demo.roomsTopics((ctx) => ctx.url),
  }),
);
router.get(
  '/rooms/:room/events',
  sse((stream) => demo.roomsJoined(stream), {
    ...demo.streamOptions,
    topics: demo.roomTopics(roomOf),
  }),
);
router.get('/metrics', (ctx) => {
  const reply = demo.metrics();
  ctx.set(reply.headers);
  ctx.body = reply.body;
});

router.post('/messages', async (ctx) => {
  const reply = await demo.postMessage(ctx.get('content-type') || undefined, ctx.req);
  ctx.status = reply.status;
  ctx.set(reply.headers);
  ctx.body = reply.body;
});

router.post('/rooms/:room/messages', async (ctx) => {
  const reply = await demo.postRoomMessage(roomOf(ctx), ctx.get('content-type') || undefined, ctx.req);
  ctx.status = reply.status;
  ctx.set(reply.headers);
  ctx.body = reply.body;
});

const app = new Koa();
app.use(router.routes()).use(router.allowedMethods());

const server = app.listen(demo.config.port, () => demo.listening(server));
demo.exitOnSignals(server);
