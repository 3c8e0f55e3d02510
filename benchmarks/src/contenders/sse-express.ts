import { createServer } from 'node:http';
import express from 'express';
import { createChannel, sse } from '@sse/express';
import { EVENTS_PATH, listen } from './listen.js';
import type { StartContender } from './types.js';

/** @sse through its Express 5 adapter. */
export const start: StartContender = async () => {
  const channel = createChannel();
  const app = express();
  app.get(EVENTS_PATH, sse((stream) => void channel.subscribe(stream), { keepAlive: false }));
  return {
    servers: [await listen(createServer(app))],
    broadcast(event) {
      // Not awaited: the harness paces the sends; the channel reports a failed publish to onError.
      void channel.broadcast({ id: event.id, data: event.data });
    },
  };
};
