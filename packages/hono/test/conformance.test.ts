import { createServer as createHttp2Server } from 'node:http2';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { listen, runConformance } from '@sse/conformance';
import { sse } from '../src/index.js';

const app = (...args: Parameters<typeof sse>) => new Hono().all('/events', sse(...args)).fetch;
runConformance({
  name: 'hono on @hono/node-server',
  mount: (handler, options) => listen(createAdaptorServer({ fetch: app(handler, options) }), '/events'),
  http2: (handler, options) => listen(createAdaptorServer({ fetch: app(handler, options), createServer: createHttp2Server }), '/events'),
});
