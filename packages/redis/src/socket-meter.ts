import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';

/** Counts the sockets of some ioredis connections and the bytes they read, across reconnects. */
export class SocketMeter {
  readonly #open = new Set<Socket>();
  #closedBytes = 0;

  /** Meters every socket `redis` opens from now on (and the one it has). */
  add(redis: Redis): void {
    const track = (): void => {
      const socket = (redis as unknown as { stream?: Socket }).stream;
      if (socket === undefined || this.#open.has(socket) || socket.destroyed) return;
      this.#open.add(socket);
      socket.once('close', () => {
        if (this.#open.delete(socket)) this.#closedBytes += socket.bytesRead;
      });
    };
    redis.on('connect', track);
    track();
  }

  get connections(): number {
    return this.#open.size;
  }

  get bytesRead(): number {
    let bytes = this.#closedBytes;
    for (const socket of this.#open) bytes += socket.bytesRead;
    return bytes;
  }
}
