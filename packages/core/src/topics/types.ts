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
