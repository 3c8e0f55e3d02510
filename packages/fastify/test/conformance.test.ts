import { createServer, type Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import fastify5 from 'fastify';
import fastify4 from 'fastify4';
import { listen, runConformance } from '@sse/conformance';
import { sse } from '../src/index.js';

for (const [name, fastify] of [['fastify 5', fastify5], ['fastify 4', fastify4]] as const) {
  // serverFactory hands Fastify a server of ours, which `listen()` starts (and counts the connections of).
  runConformance({
    name,
    mount: async (handler, options) => {
      let server: Server | undefined;
      const app = fastify({ serverFactory: (handle) => (server = createServer(handle)) });
      app.all('/events', sse(handler, options));
      await app.ready();
      return listen(server!, '/events');
    },
    http2: async (handler, options) => {
      let server: Http2Server | undefined;
      const app = fastify({ http2: true, serverFactory: (handle) => (server = createHttp2Server(handle)) });
      app.all('/events', sse(handler, options));
      await app.ready();
      return listen(server!, '/events');
    },
  });
}
