import type { Socket } from 'node:net';
import { chunkOf, startHandWritten } from './hand-written.js';
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
export const start: StartContender = () =>
  startHandWritten((clients, event) => {
    const chunk = chunkOf(event);
    for (const res of clients) {
      const socket = res.socket;
      if (socket === null || socket.destroyed) continue;
      if (!socket.writableCorked) {
        socket.cork();
        process.nextTick(uncork, socket);
      }
      socket.write(chunk);
    }
  });
