import { createServer } from 'node:http';
import { createTopicHub, sse } from '@sse/node';
import { topicOf } from './raw-topics.js';
import { listen } from './listen.js';
import type { StartContender } from './types.js';

/**
 * @sse/node with a topic hub (`createTopicHub`, its in-memory store): the route streams the one
 * topic the request names (`/events?topic=NAME`), every topic allowed; `hub.publish` per event.
 */
export const start: StartContender = async () => {
  const hub = createTopicHub();
  const server = createServer(
    sse(() => undefined, {
      keepAlive: false,
      topics: { hub, from: (req) => [topicOf(req.url)], authorize: () => true },
    }),
  );
  const publish = (topic: string, event: { id: string; data: unknown }): void => {
    // The hub gives each event its id (a position in its topics); not awaited, as a channel's broadcast.
    void hub.publish(topic, { data: event.data });
  };
  return {
    servers: [await listen(server)],
    broadcast(event) {
      publish('t0', event);
    },
    publish,
  };
};
