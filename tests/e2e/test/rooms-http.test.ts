// The rooms routes over HTTP, against each app: validation answers before any stream header, one
// room, several rooms on one connection, and resume of several rooms from one Last-Event-ID.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MAX_ROOMS_PER_STREAM, type RoomEventData } from '@sse-example/shared';
import { openEventStream, requestEventStream, type EventStreamClient } from '@sse/conformance';
import { FRAMEWORKS, STREAM_TIMEOUT_MS, startApp, type RunningApp } from './support/app.js';
import { postRoomMessage, uniqueRoom } from './support/rooms.js';

type ReceivedEvent = EventStreamClient['events'][number];

const roomEvent = (event: ReceivedEvent): RoomEventData => JSON.parse(event.data) as RoomEventData;
/** The `room:text` of every room event received, in order. */
const received = (reader: EventStreamClient): string[] =>
  reader.events.filter((event) => event.event === undefined || event.event === 'message').map((event) => {
    const { topic, data } = roomEvent(event);
    return `${topic}|${data.text}`;
  });

describe.each(FRAMEWORKS)('the %s app: rooms over HTTP', (framework) => {
  let app: RunningApp;
  const readers: EventStreamClient[] = [];
  const open = async (path: string, lastEventId?: string): Promise<EventStreamClient> => {
    const reader = await openEventStream(`${app.url}${path}`, { lastEventId, timeoutMs: STREAM_TIMEOUT_MS });
    readers.push(reader);
    return reader;
  };

  beforeAll(async () => {
    app = await startApp(framework);
  });

  afterAll(async () => {
    for (const reader of readers) reader.close();
    await app?.stop();
  });

  test.each([
    ['/events', /name the rooms/],
    ['/events?rooms=', /name the rooms/],
    ['/events?rooms=lobby,Bad_Room', /"Bad_Room" is not a room name/],
    [`/events?rooms=${'x'.repeat(33)}`, /is not a room name/],
    [`/events?rooms=${Array.from({ length: MAX_ROOMS_PER_STREAM + 1 }, (_, i) => `r${i}`).join(',')}`, new RegExp(`at most ${MAX_ROOMS_PER_STREAM} rooms`)],
    ['/rooms/No%20Way/events', /is not a room name/],
  ])('GET %s answers 400 with a text message, before any stream header', async (path, message) => {
    const reader = await requestEventStream(`${app.url}${path}`, { timeoutMs: STREAM_TIMEOUT_MS });
    readers.push(reader);
    expect(reader.status).toBe(400);
    expect(reader.headers['content-type']).toMatch(/^text\/plain/);
    await reader.waitForEnd();
    expect(reader.text).toMatch(message);
  });

  test('POST /rooms/:room/messages validates the room and the body as POST /messages does', async () => {
    const post = (room: string, body: string, type = 'application/json'): Promise<Response> =>
      fetch(`${app.url}/rooms/${room}/messages`, { method: 'POST', headers: { 'content-type': type }, body });
    const badRoom = await post('Not_A_Room', '{"text":"hi"}');
    expect(badRoom.status).toBe(400);
    expect(((await badRoom.json()) as { error: string }).error).toMatch(/is not a room name/);
    const notJson = await post('lobby', 'text=hi', 'application/x-www-form-urlencoded');
    expect(notJson.status).toBe(415);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/send the message as JSON/);
    const empty = await post('lobby', '{"text":"  "}');
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: string }).error).toBe('text must not be empty');
    const tooLarge = await post('lobby', JSON.stringify({ text: 'x'.repeat(20_000) }));
    expect(tooLarge.status).toBe(413);
    await tooLarge.text();
  });

  test('GET /rooms/:room/events streams that room only, with the topic in each event', async () => {
    const [mine, other] = [uniqueRoom('one'), uniqueRoom('other')];
    const reader = await open(`/rooms/${mine}/events`);
    // The stream's position is sent once it is live: posting after it cannot race the subscription.
    await reader.until(() => reader.text.includes('id:'), 'the live position');
    await postRoomMessage(app.url, other, 'not for me');
    const posted = await postRoomMessage(app.url, mine, 'hello room');
    expect(posted).toMatchObject({ room: mine, offset: 1, text: 'hello room', name: 'e2e' });
    await reader.until(() => received(reader).length >= 1, 'one room message');
    expect(received(reader)).toEqual([`room:${mine}|hello room`]);
  });

  test('GET /events?rooms=a,b streams both rooms on one connection, each event once with its topic', async () => {
    const [a, b] = [uniqueRoom('a'), uniqueRoom('b')];
    const reader = await open(`/events?rooms=${a},${b},${a}`);
    await reader.until(() => reader.text.includes('id:'), 'the live position');
    for (const [room, text] of [[a, 'a1'], [b, 'b1'], [a, 'a2'], [b, 'b2']] as const) await postRoomMessage(app.url, room, text);
    await reader.until(() => received(reader).length >= 4, 'four room messages');
    expect(received(reader)).toEqual([`room:${a}|a1`, `room:${b}|b1`, `room:${a}|a2`, `room:${b}|b2`]);
  });

  test('a stream of two rooms resumes both from its Last-Event-ID: exactly the missed messages, in order', async () => {
    const [a, b] = [uniqueRoom('ra'), uniqueRoom('rb')];
    const first = await open(`/events?rooms=${a},${b}`);
    await first.until(() => first.text.includes('id:'), 'the live position');
    await postRoomMessage(app.url, a, 'seen a');
    await postRoomMessage(app.url, b, 'seen b');
    await first.until(() => received(first).length >= 2, 'two room messages');
    const lastId = first.events.at(-1)?.id;
    expect(lastId).toBeTruthy();
    first.close();

    await postRoomMessage(app.url, b, 'missed b');
    await postRoomMessage(app.url, a, 'missed a');
    const again = await open(`/events?rooms=${a},${b}`, lastId);
    await again.until(() => received(again).length >= 2, 'the two missed messages');
    await postRoomMessage(app.url, a, 'live a');
    await again.until(() => received(again).length >= 3, 'the live message');
    expect(received(again)).toEqual([`room:${b}|missed b`, `room:${a}|missed a`, `room:${a}|live a`]);
    expect(again.events.some((event) => event.event === 'sse-gap')).toBe(false);
  });

  test('a Last-Event-ID from another history gets sse-gap for its rooms, then live messages', async () => {
    const [a, b] = [uniqueRoom('ga'), uniqueRoom('gb')];
    const reader = await open(`/events?rooms=${a},${b}`, 'not-a-position');
    const gap = await reader.waitForEvent((event) => event.event === 'sse-gap');
    expect(JSON.parse(gap.data)).toEqual({ reason: 'unknown-id', topics: [`room:${a}`, `room:${b}`] });
    await postRoomMessage(app.url, b, 'after the gap');
    await reader.until(() => received(reader).length >= 1, 'a live message');
    expect(received(reader)).toEqual([`room:${b}|after the gap`]);
  });
});
