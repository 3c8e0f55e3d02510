// What adapter authors import: the request flow, sinks and the request helpers. The user API
// (errors, channels, types) stays on `@sse/core`.
export { sinkDrained, sinkGone, type SinkListener, type SseSink } from './sink.js';
export { createEventStream } from './stream.js';
export { checkServeOptions, serveEventStream, type AuthorizeResult, type ServeEventStreamInit, type ServeIO, type ServeOptions, type ServeTopicsOptions, type SseHandler, type TopicListResult } from './serve.js';
export {
  acceptsEventStream,
  decodeHeaderBytes,
  readLastEventId,
  requestFacts,
  type HeaderSource,
  type HeaderValue,
  type LastEventIdOptions,
  type RequestFacts,
  type RequestFactsInit,
} from './request.js';
export { defaultHeaders } from './headers.js';
export {
  createWebStreamSink,
  fetchServerInfo,
  serveWebRequest,
  type ServeWebRequestInit,
  type SinkBypass,
  type WebRuntimeInfo,
  type WebStreamSink,
  type WebStreamSinkOptions,
} from './web.js';
export type { Rejection } from './rejection.js';
export type { EventMap, EventStream, EventStreamOptions } from './stream-types.js';
