// @sse/client: an event stream client on fetch and Web Streams, for browsers, Node 20+, Bun, Deno and Workers.
export {
  createClient,
  DEFAULT_INITIAL_RETRY_MS,
  DEFAULT_MAX_RETRY_MS,
  GAP_EVENT,
  RETRY_STATUSES,
  type BodyInput,
  type ClientItem,
  type ClientOptions,
  type ClientState,
  type CloseInfo,
  type CloseReason,
  type ConnectAttempt,
  type HeadersInput,
  type RetryInfo,
  type SseClient,
} from './client.js';
export { SseClientError, type SseClientErrorCode } from './errors.js';
export type {
  ClientEvent,
  EventMap,
  Gap,
  GapReason,
  TopicClientEvent,
  TopicEventData,
  TopicEventName,
  TopicMap,
  TopicName,
  TopicOfEvent,
  TopicPattern,
} from './types.js';
