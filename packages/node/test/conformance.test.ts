import { createServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { listen, runConformance } from '@sse/conformance';
import { sse } from '../src/index.js';

runConformance({
  name: '@sse/node on node:http',
  mount: (handler, options) => listen(createServer(sse(handler, options))),
  http2: (handler, options) => listen(createHttp2Server(sse(handler, options))),
});
