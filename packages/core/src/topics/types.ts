import type { EventMap } from '../stream-types.js';

/**
 * Event maps per topic family: keys are topic names or patterns ending in `*` (`'room:*'`
 * matches `room:7`), values the family's event map. Defaults to any topic with any event.
 *
 * ```ts
 * type Topics = { 'user:*': { notification: { text: string } }; 'room:*': { message: { from: string; text: string } } };
 * ```
 */
export type TopicMap = Record<string, EventMap>;

/** The topic names a pattern stands for: `'room:*'` is `` `room:${string}` ``. */
export type TopicPattern<P extends string> = P extends `${infer Head}*` ? `${Head}${string}` : P;

/** Every topic name of a map. */
export type TopicName<M extends TopicMap> = { [P in keyof M & string]: TopicPattern<P> }[keyof M & string];

/** The event map of a topic: that of every family its name matches. */
export type TopicEvents<M extends TopicMap, T extends string> = { [P in keyof M & string]: T extends TopicPattern<P> ? M[P] : never }[keyof M & string];

/** One event for `publish`, checked against the topic's event map (no `event`: a `message`). */
export type TopicPublishEvent<E extends EventMap> = E extends EventMap
  ?
      | { [K in keyof E & string]: { event: K; data: E[K] } }[keyof E & string]
      | ('message' extends keyof E ? { event?: undefined; data: E['message'] } : never)
  : never;

/** One event of a topic, as a topic store keeps and delivers it. */
export interface TopicEvent {
  topic: string;
  /**
   * The topic's history generation: it changes whenever the history restarts (the topic was
   * freed and created again, the store lost its data), so an old offset is never read against
   * a new history.
   */
  epoch: string;
  /** Position in the topic, from 1, one more for each event of the same epoch. */
  offset: number;
  /**
   * Orders events across topics of one store (a counter, or a publish time in ms): replays
   * interleave topics by it. Ties keep the order of the stream's topics.
   */
  order: number;
  /** The event type; `undefined` for `message`. */
  event?: string | undefined;
  /** The data, as JSON text. */
  data: string;
}

/** What a hub hands its store to publish. */
export interface TopicEventInput {
  event?: string | undefined;
  data: string;
}
