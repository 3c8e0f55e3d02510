import { createServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { listen, runConformance } from '@sse/conformance';
import { sse } from '@sse/node';
import { afterAll, beforeAll } from 'vitest';
import { createRedisStore } from '../src/index.js';
import { startRedisServer, type RedisServer } from '../src/testing.js';

// The whole suite on @sse/node, with every channel case (replay, client-disconnect) over a
// Redis store: a fresh stream per channel, so no case sees another's history.
let redis: RedisServer;
let streamCount = 0;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis.stop();
});

runConformance({
  name: '@sse/node with @sse/redis channels',
  mount: (handler, options) => listen(createServer(sse(handler, options))),
  http2: (handler, options) => listen(createHttp2Server(sse(handler, options))),
  createStore: () => createRedisStore({ url: redis.url, stream: `conformance-${++streamCount}` }),
});
