import { createServer } from 'node:http';
import Koa from 'koa';
import { createChannel, createStreamRegistry, sse } from '@sse/koa';
import { listen } from './listen.js';
import type { StartContender } from './types.js';
import { trackWritePaths } from './write-path.js';

/** @sse through its Koa 3 adapter. */
export const start: StartContender = async ({ drain }) => {
  const channel = createChannel();
  const registry = drain === true ? createStreamRegistry() : undefined;
  const paths = trackWritePaths();
  const app = new Koa();
  app.use(
    sse(
      (stream, ctx) => {
        void channel.subscribe(stream);
        paths.add(ctx.res);
      },
      { keepAlive: false, ...(registry === undefined ? {} : { registry }) },
    ),
  );
  const callback = app.callback();
  return {
    // Not awaited: Koa's callback reports its own errors (app.on('error')); node:http ignores the result.
    servers: [await listen(createServer((req, res) => void callback(req, res)))],
    broadcast(event) {
      // Not awaited: the harness paces the sends; the channel reports a failed publish to onError.
      void channel.broadcast({ id: event.id, data: event.data });
    },
    ...(registry === undefined ? {} : { closeAll: async () => void (await registry.closeAll()) }),
    writePaths: paths.writePaths,
  };
};
