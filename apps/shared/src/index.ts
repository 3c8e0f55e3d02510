export { createDemo, type Demo, type DemoStreamOptions, type ListeningServer, type TextReply } from './demo.js';
export { readConfig, describeRedisUrl, type DemoConfig } from './config.js';
export {
  CHAT_HISTORY,
  CHAT_REDIS_STREAM,
  ChatUnavailableError,
  createChatChannel,
  createChatRoom,
  type ChatEvents,
  type ChatMessage,
  type ChatPost,
  type ChatRoom,
  type SnapshotReason,
} from './chat.js';
export type { LiveEvents, Metrics, ServerStatus } from './live.js';
export { MAX_PRIVATE_STREAMS_PER_CLIENT, PRIVATE_RETRY_AFTER_SECONDS, type PrivateEvents, type PrivateRequest } from './private.js';
export type { JsonReply } from './messages.js';
export type { PageAsset } from './page.js';
export type { ClosableServer } from './shutdown.js';
