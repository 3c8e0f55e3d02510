// The server's typing, mirrored so that @sse/client depends on nothing: each type is the same
// as @sse/core's of the same name (test/types.test.ts proves them equal), so a map written once
// for the server types the client too.

/** Maps event names to the type of their `data` (`EventMap` of `@sse/core`). */
export type EventMap = Record<string, unknown>;

/** Event maps per topic family: keys are topic names or patterns ending in `*` (`TopicMap` of `@sse/core`). */
export type TopicMap = Record<string, EventMap>;

/** The topic names a pattern stands for: `'room:*'` is `` `room:${string}` ``. */
export type TopicPattern<P extends string> = P extends `${infer Head}*` ? `${Head}${string}` : P;

/** Every topic name of a map. */
export type TopicName<M extends TopicMap> = { [P in keyof M & string]: TopicPattern<P> }[keyof M & string];

/** Every event name of any family of a topic map. */
export type TopicEventName<M extends TopicMap> = { [P in keyof M & string]: keyof M[P] & string }[keyof M & string];

/** The data of a topic event by name: that of every family that has it. */
export type TopicEventData<M extends TopicMap, K extends string> = { [P in keyof M & string]: K extends keyof M[P] ? M[P][K] : never }[keyof M & string];

/** The topics of a map that have an event of this name. */
export type TopicOfEvent<M extends TopicMap, K extends string> = { [P in keyof M & string]: K extends keyof M[P] ? TopicPattern<P> : never }[keyof M & string];

/**
 * Why a client missed events (`GapReason` of `@sse/core`); servers may add reasons, which
 * arrive as they are.
 */
export type GapReason = 'unknown-id' | 'replay-failed' | 'trimmed' | 'reset' | 'dropped' | 'too-large';

/** An in-band gap signal (`sse-gap`), as a client's `onGap` listener gets it. */
export interface Gap<T extends string = string> {
  /** Why: one of {@link GapReason}, or a reason a newer server added. */
  reason: GapReason | (string & {});
  /** The topics that missed events (a topic hub's gap); `undefined` for a channel's or a stream's gap. */
  topics?: T[] | undefined;
  /** The last event id before the gap, when the server knows it (a channel's gap). */
  lastEventId?: string | undefined;
  /** The event id in force after the gap event. */
  id: string;
}

/** One event of the stream, typed by the event map: `data` is the parsed payload of `type`. */
export type ClientEvent<E extends EventMap = EventMap> = {
  [K in keyof E & string]: {
    /** The event name (`message` for an event without one). */
    type: K;
    /** The payload: JSON parsed, or the text itself when it is not JSON (or as `parse` gives it). */
    data: E[K];
    /** The payload as it came. */
    text: string;
    /** The last event id (the one sent back in `Last-Event-ID`), `''` for none. */
    id: string;
  };
}[keyof E & string];

/** A topic event, unwrapped from the hub's `{ "topic", "data" }`. */
export type TopicClientEvent<T extends TopicMap = TopicMap, K extends string = TopicEventName<T>> = {
  [N in K]: {
    type: N;
    /** The topic it was published to. */
    topic: TopicOfEvent<T, N>;
    data: TopicEventData<T, N>;
    /** The stream position after this event (`Last-Event-ID` on reconnect). */
    id: string;
  };
}[K];
