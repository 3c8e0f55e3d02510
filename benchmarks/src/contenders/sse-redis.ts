import { createServer } from 'node:http';
import { createChannel, sse } from '@sse/node';
import { createRedisStore } from '@sse/redis';
import { listen } from './listen.js';
import type { StartContender } from './types.js';

/**
 * One instance of @sse/node with its channel on @sse/redis, as the @sse/redis README shows it.
 * The harness runs two of these processes on one Redis and broadcasts on the first only: every
 * event goes through `XADD` and comes back to each instance through its `XREAD` reader.
 */
export const start: StartContender = async ({ redisUrl }) => {
  if (redisUrl === undefined) throw new Error('sse-redis needs the URL of the Redis the harness started');
  let up: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (up = resolve));
  const store = createRedisStore({
    url: redisUrl,
    stream: 'bench',
    maxLen: 1000,
    onStatus: (status) => {
      if (status.state === 'up') up();
      else console.error('sse-redis: Redis is unavailable:', status.error);
    },
  });
  const channel = createChannel({ store });
  const server = createServer(sse((stream) => void channel.subscribe(stream), { keepAlive: false }));
  // Both connections (commands and the stream reader) are ready before the first client comes.
  await ready;
  return {
    servers: [await listen(server)],
    broadcast(event) {
      // No id: the stream ids are the event ids, the same on every instance.
      // Not awaited: the harness paces the sends; the channel reports a failed publish to onError.
      void channel.broadcast({ data: event.data });
    },
  };
};
