import { createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listen } from './listen.js';
import type { StartContender } from './types.js';

/** Uncorks on the next tick, once every write of this tick is queued, as Node's OutgoingMessage does. */
function uncork(socket: Socket): void {
  socket.uncork();
}

/**
 * The floor under raw `node:http`: per broadcast one `Buffer` holding the whole HTTP/1.1 chunk
 * (size line, frame, CRLF), written straight to each client's socket, past `res.write` and its
 * chunked encoding; each socket corked once per tick. No validation, no backpressure.
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
      const length = Buffer.byteLength(frame);
      const chunk = Buffer.from(`${length.toString(16)}\r\n${frame}\r\n`);
      for (const res of clients) {
        const socket = res.socket;
        if (socket === null || socket.destroyed) continue;
        if (!socket.writableCorked) {
          socket.cork();
          process.nextTick(uncork, socket);
        }
        socket.write(chunk);
      }
    },
    async closeAll() {
      // The response writes the last chunk (`0\r\n\r\n`): the chunks above were whole.
      for (const res of clients) res.end();
    },
  };
};
