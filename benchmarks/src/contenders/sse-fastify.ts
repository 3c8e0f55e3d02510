import { createServer, type Server } from 'node:http';
import Fastify from 'fastify';
import { createChannel, sse } from '@sse/fastify';
import { EVENTS_PATH, listen } from './listen.js';
import type { StartContender } from './types.js';

/** @sse through its Fastify 5 adapter (the logger off, Fastify's default). */
export const start: StartContender = async () => {
  const channel = createChannel();
  let server: Server | undefined;
  // serverFactory: the harness's own listen() (loopback, a deep backlog) starts Fastify's server.
  const app = Fastify({ serverFactory: (handle) => (server = createServer(handle)) });
  app.get(EVENTS_PATH, sse((stream) => void channel.subscribe(stream), { keepAlive: false }));
  await app.ready();
  return {
    servers: [await listen(server!)],
    broadcast(event) {
      // Not awaited: the harness paces the sends; the channel reports a failed publish to onError.
      void channel.broadcast({ id: event.id, data: event.data });
    },
  };
};
