import { createServer } from 'node:http';
import Koa from 'koa';
import { createChannel, sse } from '@sse/koa';
import { listen } from './listen.js';
import type { StartContender } from './types.js';

/** @sse through its Koa 3 adapter. */
export const start: StartContender = async () => {
  const channel = createChannel();
  const app = new Koa();
  app.use(sse((stream) => void channel.subscribe(stream), { keepAlive: false }));
  return {
    servers: [await listen(createServer(app.callback()))],
    broadcast(event) {
      void channel.broadcast({ id: event.id, data: event.data });
    },
  };
};
