export { createDemo, type Demo, type ListeningServer } from './demo.js';
export { readConfig, type DemoConfig } from './config.js';
export { createChatChannel, type ChatEvents, type ChatMessage } from './chat.js';
export type { LiveEvents, Metrics, ServerStatus } from './live.js';
export type { PrivateEvents, PrivateRequest } from './private.js';
export type { JsonReply } from './messages.js';
export type { PageAsset } from './page.js';
export type { ClosableServer } from './shutdown.js';
