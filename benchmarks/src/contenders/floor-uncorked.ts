import { createServer, type ServerResponse } from 'node:http';
import { listen } from './listen.js';
import type { StartContender } from './types.js';
/**
 * The floor without corking: per broadcast one `Buffer` holding the whole HTTP/1.1 chunk, written
 * with `res.socket.write` to every socket as it comes. No validation, no backpressure.
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
      const frame = `id: ${event.id}\ndata: ${JSON.stringify(event.data)}\n\n`;
      const chunk = Buffer.from(`${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`);
      for (const res of clients) {
        const socket = res.socket;
        if (socket === null || socket.destroyed) continue;
        socket.write(chunk);
      }
    },
  };
};
