import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { EVENTS_PATH, listen } from './listen.js';
import type { StartContender } from './types.js';

/**
 * Hono's own `streamSSE` on @hono/node-server: each handler parks until the client leaves,
 * a broadcast calls `writeSSE` on every open stream (the data is stringified once).
 */
export const start: StartContender = async () => {
  const streams = new Set<SSEStreamingApi>();
  const app = new Hono();
  app.get(EVENTS_PATH, (c) =>
    streamSSE(c, async (stream) => {
      streams.add(stream);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      streams.delete(stream);
    }),
  );
  return {
    servers: [await listen(createAdaptorServer({ fetch: app.fetch }) as Server)],
    broadcast(event) {
      const message = { id: event.id, data: JSON.stringify(event.data) };
      // Not awaited, as the other contenders: the harness paces the sends. writeSSE rejects only on
      // an id with a line break, which the harness never sends; Hono swallows a closed stream's write error.
      for (const stream of streams) void stream.writeSSE(message);
    },
  };
};
