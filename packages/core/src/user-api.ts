// The names every adapter (`@sse/node`, `@sse/express`, `@sse/fastify`, `@sse/koa`, `@sse/hono`) re-exports from
// the core, so that a user who switches framework changes one import. Published as
// `@sse/core/user-api`; `@sse/core` itself adds `createFetchHandler` for Fetch runtimes.
export { SseError, SseFormatError, SseHeadersSentError, type SseErrorCode, type SseFormatField } from './errors.js';
export { formatEvent, formatComment, serializeJson, type EventFields, type FormatOptions, type Serializer } from './format.js';
export {
  CLOSE_REASONS,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_STALL_TIMEOUT_MS,
  type AnyEventStream,
  type CloseInfo,
  type CloseReason,
  type EventMap,
  type EventStream,
  type EventStreamOptions,
  type SendableData,
  type SlowClientInfo,
  type SlowClientPolicy,
  type StreamEvent,
} from './stream-types.js';
export { DEFAULT_MAX_LAST_EVENT_ID_LENGTH } from './request.js';
export {
  createChannel,
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
  type GapListener,
  type MemoryStoreOptions,
  type StoreGap,
} from './store.js';
export { GAP_EVENT, gapEvent, parseGap, type GapInfo, type GapReason } from './gap.js';
export {
  createStreamRegistry,
  type CloseAllOptions,
  type CloseAllResult,
  type LifecycleEntry,
  type RefusalStyle,
  type StreamCounters,
  type StreamRegistry,
  type StreamRegistryOptions,
} from './registry.js';
export {
  createTopicHub,
  DEFAULT_MAX_TOPICS_PER_STREAM,
  MAX_TOPIC_NAME_LENGTH,
  type TopicGapReason,
  type TopicHub,
  type TopicHubOptions,
  type TopicResumeStatus,
  type TopicSubscribeOptions,
} from './topics/hub.js';
export {
  createMemoryTopicStore,
  DEFAULT_MAX_TOPIC_HISTORY_BYTES,
  DEFAULT_TOPIC_HISTORY_LIMIT,
  DEFAULT_TOPIC_HISTORY_MAX_AGE_MS,
  type MemoryTopicStore,
  type MemoryTopicStoreOptions,
  type TopicHead,
  type TopicHistory,
  type TopicStore,
} from './topics/store.js';
export type { TopicEvent, TopicEventInput, TopicEvents, TopicMap, TopicName, TopicPattern, TopicPublishEvent } from './topics/types.js';
export { reject, stopReconnecting, type PlainRejection, type RejectInit, type Rejection } from './rejection.js';
export type { AuthorizeResult, ServeOptions, ServeTopicsOptions, SseHandler, TopicListResult } from './serve.js';
