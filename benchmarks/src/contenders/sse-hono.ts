import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { createChannel, sse } from '@sse/hono';
import { EVENTS_PATH, listen } from './listen.js';
import type { StartContender } from './types.js';

/** @sse through its Hono adapter (the core's Web Streams sink) on @hono/node-server. */
export const start: StartContender = async () => {
  const channel = createChannel();
  const app = new Hono();
  app.get(EVENTS_PATH, sse((stream) => void channel.subscribe(stream), { keepAlive: false }));
  return {
    servers: [await listen(createAdaptorServer({ fetch: app.fetch }) as Server)],
    broadcast(event) {
      // Not awaited: the harness paces the sends; the channel reports a failed publish to onError.
      void channel.broadcast({ id: event.id, data: event.data });
    },
  };
};
