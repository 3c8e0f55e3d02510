import { createServer } from 'node:http';
import express5 from 'express';
import express4 from 'express4';
import { listen, runConformance } from '@sse/conformance';
import { sse } from '../src/index.js';

for (const [name, express] of [['express 5', express5], ['express 4', express4]] as const) {
  runConformance({
    name,
    mount: (handler, options) => listen(createServer(express().all('/events', sse(handler, options))), '/events'),
    // Express sets node:http's IncomingMessage/ServerResponse prototypes on every request, so the
    // HTTP/2 compatibility objects lose their own methods: there is no Express on node:http2.
    skip: { http2: 'Express 4 and 5 do not run on node:http2: their req/res extend the node:http prototypes' },
  });
}
