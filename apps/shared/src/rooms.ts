import { createTopicHub, reject, type AnyEventStream, type Rejection, type ServeTopicsOptions, type TopicHub } from '@sse/core';
import { createRedisTopicStore } from '@sse/redis';
import type { ChatPost } from './chat.js';
import type { ChatInput, JsonReply } from './messages.js';
import { isStoreUnavailable, logStoreError } from './store-errors.js';

/** A room name: a short slug, so it fits a URL path and a topic name unchanged. */
export const ROOM_NAME = /^[a-z0-9-]{1,32}$/;

/** Rooms one `GET /events?rooms=…` stream may hold (each adds up to 27 characters to every event id). */
export const MAX_ROOMS_PER_STREAM = 8;

/** Messages each room keeps for resume (`Last-Event-ID`). */
export const ROOM_HISTORY = 100;

/** The prefix of every Redis key and sharded pub/sub channel of the rooms, the same on every instance. */
export const ROOMS_REDIS_PREFIX = 'sse-example:rooms:';

/** Where the rooms live: this process's memory, one Redis (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`). */
export type RoomsBackend = { kind: 'memory' } | { kind: 'redis'; url: string } | { kind: 'cluster'; nodes: readonly string[] };

/** Topics of the rooms hub: one per room, `room:<name>`. */
export type RoomTopics = {
  'room:*': { message: ChatPost };
};

/** The data of a room event on the wire, as the hub writes it: `{ "topic": "room:<name>", "data": … }`. */
export interface RoomEventData {
  topic: `room:${string}`;
  data: ChatPost;
}

/** What `POST /rooms/:room/messages` answers (201): the message and its place in the room. */
export interface RoomMessage extends ChatPost {
  room: string;
  /** The room's history generation; a new one after a restart of an in-memory hub. */
  epoch: string;
  /** The message's offset in the room (1, 2, …), the per-room part of every stream's event id. */
  offset: number;
}

/**
 * Events a rooms stream sends besides the hub's: `joined` once every room is live (after the
 * replay, or the `sse-gap`, of each), so a page knows from when it receives everything posted.
 */
export type RoomStreamEvents = {
  joined: { rooms: string[] };
};

export type ParsedRooms = { ok: true; rooms: string[] } | { ok: false; error: string };

const roomError = (name: string): string =>
  `${JSON.stringify(name.slice(0, 40))} is not a room name: use 1 to 32 lowercase letters, digits or -`;

/** Checks one room name (from a path): the text of the 400 otherwise. */
export function checkRoom(name: string | undefined): string | undefined {
  if (name === undefined || !ROOM_NAME.test(name)) return roomError(name ?? '');
  return undefined;
}

/** Parses `?rooms=a,b,c`: at least one room, at most {@link MAX_ROOMS_PER_STREAM}, repeats removed. */
export function parseRooms(url: string): ParsedRooms {
  const raw = new URL(url, 'http://localhost').searchParams.get('rooms');
  if (raw === null || raw.trim() === '') return { ok: false, error: 'name the rooms to stream: /events?rooms=lobby,news' };
  const rooms = [...new Set(raw.split(',').map((name) => name.trim()))];
  const bad = rooms.find((name) => !ROOM_NAME.test(name));
  if (bad !== undefined) return { ok: false, error: roomError(bad) };
  if (rooms.length > MAX_ROOMS_PER_STREAM) {
    return { ok: false, error: `at most ${MAX_ROOMS_PER_STREAM} rooms per stream, got ${rooms.length}: open a second stream for the others` };
  }
  return { ok: true, rooms };
}

const topicOf = (room: string): `room:${string}` => `room:${room}`;

/**
 * The rooms' `topics.authorize`: every room of the demo is public, so any visitor may read any
 * room. (The option is required: a route whose topics are private checks them here.)
 */
const everyoneMayRead = (): true => true;

export interface Rooms {
  /**
   * The `topics` option of `GET /events?rooms=…`: reads the rooms from the URL once, before any
   * header (400 naming what is wrong with `?rooms=`), allows every room (they are public); every room then resumes from
   * `Last-Event-ID` (or gets `sse-gap`) and goes live before the handler runs.
   */
  manyTopics<Args extends unknown[]>(urlOf: (...args: Args) => string): ServeTopicsOptions<Args, RoomTopics>;
  /** The `topics` option of `GET /rooms/:room/events` (400 for a bad room name). */
  oneTopic<Args extends unknown[]>(roomOf: (...args: Args) => string | undefined): ServeTopicsOptions<Args, RoomTopics>;
  /** The handler of both routes: tells the page which rooms are live (`joined`). */
  joined(stream: AnyEventStream): void;
  /** Checks the room of `POST /rooms/:room/messages` (the body is checked as `POST /messages`'s). */
  checkRoom(room: string | undefined): JsonReply | undefined;
  /** Publishes a checked message to a room. Rejects with {@link RoomsUnavailableError} when its store (Redis) is down. */
  post(room: string, input: ChatInput): Promise<RoomMessage>;
  /** Open room streams of this process. */
  readonly listeners: number;
  close(): Promise<void>;
}

/** `post()` rejects with this when the room's store (Redis) cannot record the message right now. */
export class RoomsUnavailableError extends Error {
  constructor(options: { cause: unknown }) {
    super('the rooms cannot be reached right now; send it again in a moment', options);
    this.name = 'RoomsUnavailableError';
  }
}

/**
 * The one place the rooms' hub is created. In memory, a restart loses the history, so a resuming
 * client gets `sse-gap` (`reset`) for its rooms instead of a silent gap. On Redis (one node or a
 * cluster) every instance shares the rooms and their history: a message posted on one reaches
 * the streams of all, and a client resumes exactly on any of them, also after a restart.
 */
export function createRoomsHub(backend: RoomsBackend = { kind: 'memory' }): TopicHub<RoomTopics> {
  const hubOptions = { maxTopicsPerStream: MAX_ROOMS_PER_STREAM, onError: logStoreError('rooms') };
  if (backend.kind === 'memory') return createTopicHub<RoomTopics>({ ...hubOptions, historyLimit: ROOM_HISTORY });
  const where = backend.kind === 'redis' ? { url: backend.url } : { nodes: [...backend.nodes] };
  const store = createRedisTopicStore({ ...where, historyLimit: ROOM_HISTORY, prefix: ROOMS_REDIS_PREFIX, onError: logStoreError('rooms') });
  return createTopicHub<RoomTopics>({ ...hubOptions, store });
}

/** The rooms of the sample apps on a topic hub ({@link createRoomsHub}: in memory by default). */
export function createRooms(hub: TopicHub<RoomTopics> = createRoomsHub()): Rooms {
  const badRequest = (error: string): Rejection => reject(400, { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: error });

  return {
    manyTopics: (urlOf) => ({
      hub,
      from: (...args) => {
        const parsed = parseRooms(urlOf(...args));
        return parsed.ok ? parsed.rooms.map(topicOf) : badRequest(parsed.error);
      },
      authorize: everyoneMayRead,
    }),
    oneTopic: (roomOf) => ({
      hub,
      from: (...args) => {
        const room = roomOf(...args);
        const error = checkRoom(room);
        return room !== undefined && error === undefined ? [topicOf(room)] : badRequest(error ?? 'a room is required');
      },
      authorize: everyoneMayRead,
    }),
    joined(stream) {
      const rooms = hub.topicsOf(stream).map((topic) => topic.slice('room:'.length));
      // No id: the client keeps the position the hub gave it.
      if (!stream.isClosed) stream.send({ event: 'joined', data: { rooms } satisfies RoomStreamEvents['joined'] });
    },
    checkRoom(room) {
      const error = checkRoom(room);
      return error === undefined ? undefined : { status: 400, headers: {}, body: { error } };
    },
    async post(room, input) {
      const message: ChatPost = { name: input.name, text: input.text, at: new Date().toISOString() };
      let place: { epoch: string; offset: number };
      try {
        place = await hub.publish(topicOf(room), { event: 'message', data: message });
      } catch (error) {
        if (isStoreUnavailable(error)) throw new RoomsUnavailableError({ cause: error });
        throw error;
      }
      const { epoch, offset } = place;
      return { room, epoch, offset, ...message };
    },
    get listeners() {
      return hub.streamCount;
    },
    close: () => hub.close(),
  };
}
