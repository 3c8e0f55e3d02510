export * from '@sse/core';
export { createNodeSink, isConnectionError, writeRejection, type NodeRequest, type NodeResponse } from './sink.js';
export { closeOnClientFin } from './client-fin.js';
export { waitForTurn } from './pipelining.js';
export { serveNodeRequest, sse, type NodeSseOptions } from './serve.js';
