import { createServer, type ServerResponse } from 'node:http';
import { listen } from './listen.js';
import type { StartContender } from './types.js';

/** The topic a request names: `/events?topic=NAME`. */
export function topicOf(url: string | undefined): string {
  return new URL(url ?? '/', 'http://bench').searchParams.get('topic') ?? '';
}

/**
 * Topics by hand on plain `node:http`: a map from topic to its responses, and per publish one
 * `Buffer` from a template string written to each response of the topic. No history, no resume.
 */
export const start: StartContender = async () => {
  const topics = new Map<string, Set<ServerResponse>>();
  const server = createServer((req, res) => {
    const topic = topicOf(req.url);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    let subscribers = topics.get(topic);
    if (subscribers === undefined) topics.set(topic, (subscribers = new Set()));
    subscribers.add(res);
    res.on('close', () => {
      subscribers.delete(res);
      if (subscribers.size === 0) topics.delete(topic);
    });
  });
  const publish = (topic: string, event: { id: string; data: unknown }): void => {
    const subscribers = topics.get(topic);
    if (subscribers === undefined) return;
    const frame = Buffer.from(`id: ${event.id}\ndata: ${JSON.stringify(event.data)}\n\n`);
    for (const res of subscribers) res.write(frame);
  };
  return {
    servers: [await listen(server)],
    broadcast(event) {
      for (const topic of topics.keys()) publish(topic, event);
    },
    publish,
  };
};
