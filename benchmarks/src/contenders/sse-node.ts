import { createServer } from 'node:http';
import { createChannel, sse } from '@sse/node';
import { listen } from './listen.js';
import type { StartContender } from './types.js';

/** @sse on plain node:http: `sse()` + a channel, keep-alive off like every peer here. */
export const start: StartContender = async () => {
  const channel = createChannel();
  const server = createServer(sse((stream) => void channel.subscribe(stream), { keepAlive: false }));
  return {
    servers: [await listen(server)],
    broadcast(event) {
      // Not awaited: the harness paces the sends; the channel reports a failed publish to onError.
      void channel.broadcast({ id: event.id, data: event.data });
    },
  };
};
