import { createChannel, type AnyEventStream, type Channel, type ReplayResult } from '@sse/core';
import type { ChatInput } from './messages.js';

/** A chat message as it is broadcast, replayed and shown. `id` is also its SSE event id. */
export interface ChatMessage {
  id: string;
  name: string;
  text: string;
  /** ISO 8601 time the server accepted it. */
  at: string;
}

/** Events of `GET /chat`. */
export type ChatEvents = {
  message: ChatMessage;
  /** Sent instead of a replay (first connection, or an id this process never issued): the recent history. */
  snapshot: { reason: 'first-connection' | 'unknown-last-event-id' | 'history-unavailable'; messages: ChatMessage[] };
  /** Sent after a replay from `Last-Event-ID`: how many missed messages came before it. */
  sync: { mode: 'replay'; count: number };
};

/** How many messages are kept for replay and for snapshots. */
export const CHAT_HISTORY = 200;

/**
 * The one place the chat channel is created, so that a shared store (`REDIS_URL`) can be
 * switched in here without touching the apps.
 */
export function createChatChannel(): Channel<ChatEvents> {
  return createChannel<ChatEvents>({ history: CHAT_HISTORY });
}

export interface ChatRoom {
  /** Accepts a message and broadcasts it to every `/chat` stream; resolves once it is recorded. */
  post(input: ChatInput): Promise<ChatMessage>;
  /** Adds a `/chat` stream: it gets what it missed (replay or snapshot), then live messages. */
  join(stream: AnyEventStream): void;
  /** Messages accepted since the process started. */
  readonly posted: number;
  /** Open `/chat` streams. */
  readonly listeners: number;
  close(): Promise<void>;
}

export function createChatRoom(channel: Channel<ChatEvents> = createChatChannel()): ChatRoom {
  // Ids carry a per-process prefix: after a restart, a client's old id is unknown (and gets a
  // snapshot) instead of matching a different message of the new process.
  const idPrefix = `${Date.now().toString(36)}${Math.floor(Math.random() * 46_656).toString(36)}`;
  // The channel replays from an id but cannot list its history, and a snapshot needs it.
  const recent: ChatMessage[] = [];
  let posted = 0;

  function sendCatchUp(stream: AnyEventStream, result: ReplayResult): void {
    if (result.status === 'replayed') {
      stream.send({ event: 'sync', data: { mode: 'replay', count: result.count } });
      return;
    }
    const reason =
      result.status === 'none' ? 'first-connection' : result.status === 'unknown' ? 'unknown-last-event-id' : 'history-unavailable';
    // The snapshot's id becomes the client's Last-Event-ID: the next reconnect replays from the
    // newest message it holds. With no message, the empty id clears an id of a previous process.
    stream.send({ event: 'snapshot', id: recent.at(-1)?.id ?? '', data: { reason, messages: [...recent] } });
  }

  return {
    async post(input) {
      posted++;
      const message: ChatMessage = { id: `${idPrefix}-${posted}`, name: input.name, text: input.text, at: new Date().toISOString() };
      // Recorded in the same turn as the broadcast, so a stream that joins in between gets it
      // either in its snapshot or live, never both and never neither.
      recent.push(message);
      if (recent.length > CHAT_HISTORY) recent.shift();
      await channel.broadcast({ event: 'message', id: message.id, data: message });
      return message;
    },
    join(stream) {
      channel.subscribe(stream, { onReplay: (result) => sendCatchUp(stream, result) });
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
