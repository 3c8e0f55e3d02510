import type { Server } from 'node:http';

/** Above Node's default of 511, so that a batch of connections never overflows the accept queue. */
const BACKLOG = 4096;

/** Listens on 127.0.0.1, on a free port; traffic never leaves loopback. */
export function listen(server: Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog: BACKLOG }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** The path every contender serves its event stream on. */
export const EVENTS_PATH = '/events';
