import type { Server } from 'node:http';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { createChannel, createStreamRegistry, sse } from '@sse/hono';
import { EVENTS_PATH, listen } from './listen.js';
import type { StartContender } from './types.js';
import { trackWritePaths } from './write-path.js';

/** @sse through its Hono adapter on @hono/node-server. */
export const start: StartContender = async ({ drain }) => {
  const channel = createChannel();
  const registry = drain === true ? createStreamRegistry() : undefined;
  const paths = trackWritePaths();
  const app = new Hono();
  app.get(
    EVENTS_PATH,
    sse(
      (stream, c) => {
        void channel.subscribe(stream);
        // On @hono/node-server the context's env holds Node's own response.
        paths.add((c.env as HttpBindings).outgoing);
      },
      { keepAlive: false, ...(registry === undefined ? {} : { registry }) },
    ),
  );
  return {
    servers: [await listen(createAdaptorServer({ fetch: app.fetch }) as Server)],
    broadcast(event) {
      // Not awaited: the harness paces the sends; the channel reports a failed publish to onError.
      void channel.broadcast({ id: event.id, data: event.data });
    },
    ...(registry === undefined ? {} : { closeAll: async () => void (await registry.closeAll()) }),
    writePaths: paths.writePaths,
  };
};
