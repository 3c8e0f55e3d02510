export { createDemo, type Demo, type DemoStreamOptions, type ListeningServer, type TextReply } from './demo.js';
export { readConfig, readRedisClusterNodes, describeRedisUrl, type DemoConfig } from './config.js';
export { createChatChannel, type ChatEvents, type ChatMessage, type ChatPost } from './chat.js';
export type { LiveEvents, Metrics, ServerStatus } from './live.js';
export type { PrivateEvents, PrivateRequest } from './private.js';
export type { JsonReply } from './messages.js';
export type { PageAsset } from './page.js';
export type { ClosableServer } from './shutdown.js';
export { MAX_ROOMS_PER_STREAM, ROOM_NAME, type RoomEventData, type RoomMessage, type RoomStreamEvents, type RoomTopics } from './rooms.js';
