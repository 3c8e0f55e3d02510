import { chunkOf, startHandWritten } from './hand-written.js';
import type { StartContender } from './types.js';

/**
 * The floor without corking: per broadcast one `Buffer` holding the whole HTTP/1.1 chunk, written
 * with `res.socket.write` to every socket as it comes. No validation, no backpressure.
 */
export const start: StartContender = () =>
  startHandWritten((clients, event) => {
    const chunk = chunkOf(event);
    for (const res of clients) {
      const socket = res.socket;
      if (socket !== null && !socket.destroyed) socket.write(chunk);
    }
  });
