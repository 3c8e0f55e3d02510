import { checkOption } from './check-option.js';
import { Queue } from './queue.js';

/** An event as a channel store keeps and delivers it. */
export interface ChannelEvent {
  /** The id: given by the app, or assigned by the store. */
  id: string;
  /** The event type; `undefined` for `message`. */
  event?: string | undefined;
  /** The data as it goes on the wire (already serialized). */
  data: string;
  /** `true` when `data` was produced by the serializer (so it can be deserialized for filters). */
  json: boolean;
  /**
   * What only this process knows about an event it published: the original value and the
   * broadcast filter. In-process stores keep it; stores that travel over a network drop it.
   */
  local?: ChannelEventLocal;
}

export interface ChannelEventLocal {
  value: unknown;
  filter?: ((stream: never) => boolean) | undefined;
}

/**
 * What a store tells its listeners when live delivery skipped events it can no longer deliver
 * (`listen(listener, onGap)`). The channel turns it into the in-band gap event, so that clients
 * refetch their state instead of silently missing events.
 *
 * - `trimmed`: this instance's reader fell behind by more than the store keeps: the events
 *   between `after` and `resumeFrom` were dropped before it read them.
 * - `reset`: the store's data went away or went backwards (deleted, recreated, a restart
 *   without persistence): its history is gone and delivery starts again with the new data.
 */
export interface StoreGap {
  reason: 'trimmed' | 'reset';
  /** Last event id this instance delivered before the gap, if any. */
  after?: string | undefined;
  /** First event id delivered after the gap, if known. */
  resumeFrom?: string | undefined;
}

/** Told once per gap, before any event that follows it. */
export type GapListener = (gap: StoreGap) => void;

/** What a channel hands its store to publish. */
export type ChannelEventInput = Omit<ChannelEvent, 'id'> & { id?: string | undefined };

/**
 * Where a channel's events go and are remembered. The default is the in-memory
 * {@link createMemoryStore}; `@sse/redis` provides one shared by many server instances.
 *
 * Contract: `publish` records the event (assigning an id when none is given) *before* any
 * listener sees it, and every listener gets every event once, in publish order. With that,
 * `since` plus live events gives a gap-free replay (the channel removes the overlap).
 */
export interface ChannelStore {
  /** `true` when events travel to other processes; local-only features (broadcast filters) are refused. */
  readonly shared?: boolean;
  /** Records an event and delivers it to the listeners (of every instance sharing the store). */
  publish(event: ChannelEventInput): ChannelEvent | Promise<ChannelEvent>;
  /**
   * Subscribes to every published event; returns the function that stops it. A store that can
   * miss events (a shared one whose reader fell behind, or whose data was reset) tells `onGap`,
   * once per gap, before the first event after it; an in-process store never calls it.
   */
  listen(listener: (event: ChannelEvent) => void, onGap?: GapListener): () => void;
  /**
   * The events published after `lastEventId`, oldest first; `null` when that id is unknown,
   * foreign, or already expired (the client must be brought up to date another way).
   */
  since(lastEventId: string): readonly ChannelEvent[] | null | Promise<readonly ChannelEvent[] | null>;
  /** Optional: the newest `count` events still kept, oldest first (for a full refresh). */
  recent?(count: number): readonly ChannelEvent[] | Promise<readonly ChannelEvent[]>;
  /** Releases connections and timers. */
  close?(): void | Promise<void>;
}

export interface MemoryStoreOptions {
  /** How many events are kept for replay; `0` keeps none. Defaults to `1000`. */
  limit?: number;
  /** Events older than this (ms) are not replayed. Defaults to no age limit. */
  maxAgeMs?: number;
}

interface MemoryEntry extends ChannelEvent {
  seq: number;
  at: number;
}

/**
 * The in-memory store: a ring buffer bounded by count (and optionally age). Ids it assigns
 * carry a per-process prefix, so after a restart an old id reads as unknown instead of
 * pointing at a different event.
 *
 * @deprecated The store of `createChannel`, which topics replace: a topic hub keeps its
 * history in `createMemoryTopicStore` (the hub's default). Keeps working unchanged in 0.x.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): ChannelStore {
  const limit = options.limit ?? 1000;
  const maxAgeMs = options.maxAgeMs;
  checkOption.nonNegativeInteger('history limit', limit);
  if (maxAgeMs !== undefined) checkOption.positiveMilliseconds('history maxAgeMs', maxAgeMs);
  const prefix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36).padStart(2, '0')}`;
  const entries = new Queue<MemoryEntry>();
  let seq = 0;
  const bySeqOfId = new Map<string, number>();
  const listeners = new Set<(event: ChannelEvent) => void>();

  const evict = (now: number): void => {
    while (entries.length > limit || (maxAgeMs !== undefined && entries.length > 0 && now - entries.at(0)!.at > maxAgeMs)) {
      const old = entries.shift()!;
      if (bySeqOfId.get(old.id) === old.seq) bySeqOfId.delete(old.id);
    }
  };

  return {
    publish(input) {
      seq++;
      const now = Date.now();
      const entry: MemoryEntry = { ...input, id: input.id ?? `${prefix}-${seq}`, seq, at: now };
      if (limit > 0) {
        entries.push(entry);
        bySeqOfId.set(entry.id, seq);
        evict(now);
      }
      for (const listener of listeners) listener(entry);
      return entry;
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    since(lastEventId) {
      evict(Date.now());
      const after = bySeqOfId.get(lastEventId);
      if (after === undefined) return null;
      const first = entries.at(0);
      if (first === undefined) return [];
      return entries.slice(after - first.seq + 1);
    },
    recent(count) {
      checkOption.positiveInteger('recent() count', count);
      evict(Date.now());
      return entries.slice(entries.length - count);
    },
    close() {
      listeners.clear();
    },
  };
}
