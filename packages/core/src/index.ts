export { SseError, SseFormatError, SseHeadersSentError, type SseFormatField } from './errors.js';
export {
  formatEvent,
  formatComment,
  serializeJson,
  type EventFields,
  type FormatOptions,
  type Serializer,
} from './format.js';
export type { SseSink } from './sink.js';
export {
  readLastEventId,
  decodeHeaderBytes,
  defaultHeaders,
  DEFAULT_MAX_LAST_EVENT_ID_LENGTH,
  type LastEventIdOptions,
} from './request.js';
export {
  createEventStream,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_STALL_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  type CloseInfo,
  type CloseReason,
  type EventMap,
  type EventStream,
  type EventStreamOptions,
  type SendableData,
  type SlowClientInfo,
  type SlowClientPolicy,
  type StreamEvent,
} from './stream.js';
export {
  createChannel,
  type AnyEventStream,
  type BroadcastOptions,
  type Channel,
  type ChannelMessage,
  type ChannelOptions,
  type ReplayResult,
  type SubscribeOptions,
} from './channel.js';
export {
  createMemoryStore,
  type ChannelEvent,
  type ChannelEventInput,
  type ChannelEventLocal,
  type ChannelStore,
  type MemoryStoreOptions,
} from './store.js';
export {
  createStreamRegistry,
  type CloseAllOptions,
  type CloseAllResult,
  type LifecycleEntry,
  type StreamCounters,
  type StreamRegistry,
  type StreamRegistryOptions,
} from './registry.js';
export {
  acceptsEventStream,
  reject,
  stopReconnecting,
  serveEventStream,
  type RejectInit,
  type Rejection,
  type ServeIO,
  type ServeOptions,
  type SseHandler,
} from './serve.js';
export {
  createWebStreamSink,
  serveWebRequest,
  createFetchHandler,
  type WebRuntimeInfo,
  type WebStreamSink,
  type WebStreamSinkOptions,
} from './web.js';
