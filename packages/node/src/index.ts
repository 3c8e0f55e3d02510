// What users of @sse/node import: `sse()` for node:http and the user API every adapter shares.
// Adapter authors building on Node responses import `@sse/node/adapter`.
export * from '@sse/core/user-api';
export { sse, type NodeSseOptions } from './sse.js';
export type { NodeRequest, NodeResponse } from './sink.js';
