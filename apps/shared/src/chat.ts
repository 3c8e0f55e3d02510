import { createChannel, type AnyEventStream, type Channel, type ChannelMessage } from '@sse/core';
import { createRedisStore } from '@sse/redis';
import type { ChatInput } from './messages.js';
import { isStoreUnavailable, logStoreError } from './store-errors.js';

/** A chat message as `POST /messages` answers it and a snapshot lists it. `id` is its SSE event id. */
export interface ChatMessage {
  id: string;
  name: string;
  text: string;
  /** ISO 8601 time the server accepted it. */
  at: string;
}

/**
 * The data of a `message` event: the message without its id, which travels as the event's SSE
 * id. The channel assigns it (a Redis stream id with `REDIS_URL`), so it means the same on
 * every instance and a client can resume from it on any of them.
 */
export type ChatPost = Omit<ChatMessage, 'id'>;

/** Why a `/chat` stream starts with a snapshot instead of a replay. */
export type SnapshotReason = 'first-connection' | 'unknown-last-event-id' | 'history-unavailable';

/** Events of `GET /chat`. */
export type ChatEvents = {
  message: ChatPost;
  /**
   * Sent instead of a replay (a first connection, or an id the history does not hold): the
   * recent history. Empty, with no id, when the history cannot be read (`history-unavailable`).
   */
  snapshot: { reason: SnapshotReason; messages: ChatMessage[] };
  /** Sent after a replay from `Last-Event-ID`: how many missed messages came before it. */
  sync: { mode: 'replay'; count: number };
};

/** How many messages are kept for replay and for snapshots. */
export const CHAT_HISTORY = 200;

/** The Redis Stream that carries the chat when `REDIS_URL` is set; the same key on every instance. */
export const CHAT_REDIS_STREAM = 'sse-example:chat';

/** During a Redis outage every failed post and replay is reported here. */
const logChannelError = logStoreError('chat');

/**
 * The one place the chat channel is created: in this process's memory, or, given a Redis URL,
 * through `@sse/redis` so that every instance using that Redis shares the chat and its history.
 */
export function createChatChannel(redisUrl?: string): Channel<ChatEvents> {
  if (redisUrl === undefined) return createChannel<ChatEvents>({ history: CHAT_HISTORY });
  return createChannel<ChatEvents>({
    store: createRedisStore({ url: redisUrl, stream: CHAT_REDIS_STREAM, maxLen: CHAT_HISTORY }),
    onError: logChannelError,
  });
}

/** `post()` rejects with this when the message could not be recorded because the store is unavailable. */
export class ChatUnavailableError extends Error {
  constructor(options: { cause: unknown }) {
    super('the chat history cannot be reached right now; send it again in a moment', options);
    this.name = 'ChatUnavailableError';
  }
}

export interface ChatRoom {
  /**
   * Records a message and broadcasts it to every `/chat` stream (of every instance, with Redis);
   * resolves with it and its id. Rejects with {@link ChatUnavailableError} when the store is down.
   */
  post(input: ChatInput): Promise<ChatMessage>;
  /** Adds a `/chat` stream: it gets what it missed (replay or snapshot), then live messages. */
  join(stream: AnyEventStream): void;
  /** Messages this process accepted since it started. */
  readonly posted: number;
  /** Open `/chat` streams of this process. */
  readonly listeners: number;
  /** Stops broadcasting and releases the store (Redis connections). */
  close(): Promise<void>;
}

function toChatMessage(message: ChannelMessage<ChatEvents>): ChatMessage {
  return { id: message.id, ...(message.data as ChatPost) };
}

export function createChatRoom(channel: Channel<ChatEvents> = createChatChannel()): ChatRoom {
  let posted = 0;

  /**
   * Subscribes from `lastEventId`: the missed messages, in order, then live ones. When the
   * history does not hold that id, hands the stream over to a snapshot instead.
   */
  function resume(stream: AnyEventStream, lastEventId: string, afterSnapshot: boolean): void {
    let following = true;
    const leave = channel.subscribe(stream, {
      replay: lastEventId,
      // Nothing gets through once the stream was handed over to a snapshot (which subscribes again).
      filter: () => following,
      onReplay(result) {
        if (result.status === 'none') return;
        if (result.status === 'replayed') {
          // Right after a snapshot the replay only closes the gap of the history read: nothing to tell.
          if (!afterSnapshot) stream.send({ event: 'sync', data: { mode: 'replay', count: result.count } });
          return;
        }
        if (result.status === 'error' || afterSnapshot) {
          // The store failed (Redis down), or an id just read from it is gone already: live
          // messages keep coming; no id is sent, so the client keeps its own for its next reconnect.
          stream.send({ event: 'snapshot', data: { reason: 'history-unavailable', messages: [] } });
          return;
        }
        following = false;
        // `leave` is only assigned once subscribe() returns, which an in-memory replay is still inside.
        queueMicrotask(() => {
          leave();
          void sendSnapshot(stream, 'unknown-last-event-id'); // it catches its own failure (history unavailable)
        });
      },
    });
  }

  /**
   * The shared history's newest messages, then what was broadcast since: the snapshot carries
   * the newest id, and the subscription replays from it, so a message published during the
   * read arrives once (with an empty history there is no id to resume from: live only).
   */
  async function sendSnapshot(stream: AnyEventStream, reason: SnapshotReason): Promise<void> {
    let latest: Array<ChannelMessage<ChatEvents>>;
    try {
      latest = (await channel.recent(CHAT_HISTORY)).filter((message) => message.event === 'message');
    } catch {
      if (stream.isClosed) return;
      stream.send({ event: 'snapshot', data: { reason: 'history-unavailable', messages: [] } });
      channel.subscribe(stream, { replay: false });
      return;
    }
    if (stream.isClosed) return;
    const newestId = latest.at(-1)?.id;
    // The snapshot's id becomes the client's Last-Event-ID, so its next reconnect is a replay.
    // With no message, the empty id clears an id the client kept from a store that forgot it.
    stream.send({ event: 'snapshot', id: newestId ?? '', data: { reason, messages: latest.map(toChatMessage) } });
    if (newestId === undefined) channel.subscribe(stream, { replay: false });
    else resume(stream, newestId, true);
  }

  return {
    async post(input) {
      const message: ChatPost = { name: input.name, text: input.text, at: new Date().toISOString() };
      let id: string;
      try {
        // No app-given id: the store assigns one that every instance can replay from.
        id = await channel.broadcast({ event: 'message', data: message });
      } catch (error) {
        if (isStoreUnavailable(error)) throw new ChatUnavailableError({ cause: error });
        throw error;
      }
      posted++;
      return { id, ...message };
    },
    join(stream) {
      // sendSnapshot catches its own failure (history unavailable): nothing to await here.
      if (stream.lastEventId === undefined) void sendSnapshot(stream, 'first-connection');
      else resume(stream, stream.lastEventId, false);
    },
    get posted() {
      return posted;
    },
    get listeners() {
      return channel.size;
    },
    close: () => channel.close(),
  };
}
