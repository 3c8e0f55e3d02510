// A worker on its own (no bridge, nothing pending but the stream): what a deployed app sees when
// its clients leave. GET /events?keepAlive=ms&api=hono|fetch opens a stream subscribed to a
// channel; GET /stats tells what the registry and the channel hold;
// GET /broadcast?data= sends an event to every subscriber, from another request.
import { Hono } from 'hono';
import { sse } from '@sse/hono';
import { createChannel, createFetchHandler, createStreamRegistry, type EventStream } from '@sse/core';

const registry = createStreamRegistry();
const channel = createChannel();

const handler = (stream: EventStream): void => void channel.subscribe(stream);
const keepAliveOf = (request: Request): number | false => {
  const value = new URL(request.url).searchParams.get('keepAlive');
  return value === 'false' ? false : Number(value);
};
const viaFetch = (request: Request) => createFetchHandler(handler, { registry, keepAlive: keepAliveOf(request) })(request);
const viaHono = new Hono().get('/events', (c) => sse(handler, { registry, keepAlive: keepAliveOf(c.req.raw) })(c, async () => undefined));

export default {
  fetch(request: Request, env: unknown, ctx: unknown): Response | Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/stats') {
      const counters = registry.counters();
      return Response.json({ open: registry.size, subscribers: channel.size, comments: counters.commentsWritten, closedBy: counters.closedBy });
    }
    if (url.pathname === '/broadcast') {
      return channel.broadcast(url.searchParams.get('data') ?? 'hello').then(
        (id) => Response.json({ id }),
        (error: unknown) => Response.json({ error: String(error) }, { status: 500 }),
      );
    }
    if (url.searchParams.get('api') === 'fetch') return viaFetch(request);
    return viaHono.fetch(request, env, ctx as never);
  },
};
