import { createServer } from 'node:http';
import express from 'express';
import { createChannel, createStreamRegistry, sse } from '@sse/express';
import { EVENTS_PATH, listen } from './listen.js';
import type { StartContender } from './types.js';
import { trackWritePaths } from './write-path.js';

/** @sse through its Express 5 adapter. */
export const start: StartContender = async ({ drain }) => {
  const channel = createChannel();
  const registry = drain === true ? createStreamRegistry() : undefined;
  const paths = trackWritePaths();
  const app = express();
  app.get(
    EVENTS_PATH,
    sse(
      (stream, _req, res) => {
        void channel.subscribe(stream);
        paths.add(res);
      },
      { keepAlive: false, ...(registry === undefined ? {} : { registry }) },
    ),
  );
  return {
    servers: [await listen(createServer(app))],
    broadcast(event) {
      // Not awaited: the harness paces the sends; the channel reports a failed publish to onError.
      void channel.broadcast({ id: event.id, data: event.data });
    },
    ...(registry === undefined ? {} : { closeAll: async () => void (await registry.closeAll()) }),
    writePaths: paths.writePaths,
  };
};
