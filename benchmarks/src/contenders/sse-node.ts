import { createServer } from 'node:http';
import { createChannel, createStreamRegistry, sse } from '@sse/node';
import { listen } from './listen.js';
import type { StartContender } from './types.js';
import { trackWritePaths } from './write-path.js';

/** @sse on plain node:http: `sse()` + a channel, keep-alive off like every peer here. */
export const start: StartContender = async ({ drain }) => {
  const channel = createChannel();
  const registry = drain === true ? createStreamRegistry() : undefined;
  const paths = trackWritePaths();
  const server = createServer(
    sse(
      (stream, _req, res) => {
        void channel.subscribe(stream);
        paths.add(res);
      },
      { keepAlive: false, ...(registry === undefined ? {} : { registry }) },
    ),
  );
  return {
    servers: [await listen(server)],
    broadcast(event) {
      // Not awaited: the harness paces the sends; the channel reports a failed publish to onError.
      void channel.broadcast({ id: event.id, data: event.data });
    },
    ...(registry === undefined ? {} : { closeAll: async () => void (await registry.closeAll()) }),
    writePaths: paths.writePaths,
  };
};
