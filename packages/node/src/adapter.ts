// What adapter authors import to build on Node responses (what @sse/express, @sse/fastify and @sse/koa are made of).
export { createNodeSink, isConnectionError, writeRejection, type NodeRequest, type NodeResponse } from './sink.js';
export { serveNodeRequest, type ServeNodeRequestInit } from './serve-request.js';
export { closeOnClientFin } from './client-fin.js';
export { directSocket, outgoingPrototype, recordWritePath, sinkWritePath, writeChunk, type SinkWritePath } from './socket-writer.js';
export { waitForTurn } from './pipelining.js';
