import { createServer, type Server } from 'node:http';
import Fastify from 'fastify';
import { createChannel, createStreamRegistry, sse } from '@sse/fastify';
import { EVENTS_PATH, listen } from './listen.js';
import type { StartContender } from './types.js';
import { trackWritePaths } from './write-path.js';

/** @sse through its Fastify 5 adapter (the logger off, Fastify's default). */
export const start: StartContender = async ({ drain }) => {
  const channel = createChannel();
  const registry = drain === true ? createStreamRegistry() : undefined;
  const paths = trackWritePaths();
  let server: Server | undefined;
  // serverFactory: the harness's own listen() (loopback, a deep backlog) starts Fastify's server.
  const app = Fastify({ serverFactory: (handle) => (server = createServer(handle)) });
  app.get(
    EVENTS_PATH,
    sse(
      (stream, _request, reply) => {
        void channel.subscribe(stream);
        paths.add(reply.raw);
      },
      { keepAlive: false, ...(registry === undefined ? {} : { registry }) },
    ),
  );
  await app.ready();
  return {
    servers: [await listen(server!)],
    broadcast(event) {
      // Not awaited: the harness paces the sends; the channel reports a failed publish to onError.
      void channel.broadcast({ id: event.id, data: event.data });
    },
    ...(registry === undefined ? {} : { closeAll: async () => void (await registry.closeAll()) }),
    writePaths: paths.writePaths,
  };
};
