import { createServer, type ServerResponse } from 'node:http';
import { listen } from './listen.js';
import type { StartContender } from './types.js';

/**
 * The practical limit: plain `node:http`, the frame written by hand and encoded once per
 * broadcast, one `write` per client, no backpressure handling, no validation.
 */
export const start: StartContender = async () => {
  const clients = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    clients.add(res);
    res.on('close', () => clients.delete(res));
  });
  return {
    servers: [await listen(server)],
    broadcast(event) {
      const frame = Buffer.from(`id: ${event.id}\ndata: ${JSON.stringify(event.data)}\n\n`);
      for (const res of clients) res.write(frame);
    },
    async closeAll() {
      for (const res of clients) res.end();
    },
  };
};
