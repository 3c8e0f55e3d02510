import { createServer } from 'node:http';
import { createChannel, createSession } from 'better-sse';
import { listen } from './listen.js';
import type { StartContender } from './types.js';

/**
 * better-sse 0.16 as its README shows it: a session per request, registered on a channel.
 * Keep-alive and the initial `retry` are off, matching the other contenders.
 */
export const start: StartContender = async () => {
  const channel = createChannel();
  const server = createServer((req, res) => {
    createSession(req, res, { keepAlive: null, retry: null }).then(
      (session) => channel.register(session),
      () => res.destroy(),
    );
  });
  return {
    servers: [await listen(server)],
    broadcast(event) {
      channel.broadcast(event.data, 'message', { eventId: event.id });
    },
  };
};
