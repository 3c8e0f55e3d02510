// What the browser cannot see: status codes, headers and the exact events, checked with Node
// clients against each app (the same file runs against Express, Hono and Koa).
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { ChatEvents, ChatMessage, ChatPost, LiveEvents } from '@sse-example/shared';
import { openEventStream, type EventStreamClient } from '@sse/conformance';
import { FRAMEWORKS, STREAM_TIMEOUT_MS, TEST_TOKEN, TEST_TICK_MS, startApp, type RunningApp } from './support/app.js';
import { holdRequest, type HeldRequest } from './support/held-request.js';
import { metricValue, postMessage, uniquePrefix } from './support/http.js';

const json = <T>(text: string): T => JSON.parse(text) as T;

describe.each(FRAMEWORKS)('the %s app over HTTP', (framework) => {
  let app: RunningApp;
  const readers: EventStreamClient[] = [];
  const open = async (path: string, headers?: Record<string, string>): Promise<EventStreamClient> => {
    const reader = await openEventStream(`${app.url}${path}`, { headers, timeoutMs: STREAM_TIMEOUT_MS });
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

  test('GET / serves the shared page with its script, @sse/client, its style and a strict CSP', async () => {
    const page = await fetch(`${app.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/app.js"></script>');
    for (const [path, type] of [['/app.js', /^text\/javascript/], ['/sse-client.js', /^text\/javascript/], ['/style.css', /^text\/css/]] as const) {
      const asset = await fetch(`${app.url}${path}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(type);
      const body = await asset.text();
      // The page's module imports the client from the app itself, which serves @sse/client's bundle.
      if (path === '/app.js') expect(body).toContain("import { createClient } from '/sse-client.js';");
      if (path === '/sse-client.js') expect(body).toMatch(/^export \{[^}]*\bcreateClient\b/m);
    }
  });

  test('GET /sse sends a retry hint, a welcome and a status, then the time and JSON metrics every tick', async () => {
    const live = await open('/sse');
    const welcome = json<LiveEvents['welcome']>((await live.waitForEvent((e) => e.event === 'welcome')).data);
    expect(welcome).toMatchObject({ framework: expect.stringMatching(new RegExp(framework, 'i')), tickMs: TEST_TICK_MS });
    expect(json<LiveEvents['status']>((await live.waitForEvent((e) => e.event === 'status')).data)).toMatchObject({ state: 'ok' });
    // 1500 ms, spread by a third either way per stream.
    expect(live.retries.at(-1)).toBeGreaterThanOrEqual(1000);
    expect(live.retries.at(-1)).toBeLessThanOrEqual(2000);
    const first = json<LiveEvents['time']>((await live.waitForEvent((e) => e.event === 'time')).data);
    const later = json<LiveEvents['time']>((await live.waitForEvent((e) => e.event === 'time' && json<LiveEvents['time']>(e.data).tick > first.tick)).data);
    expect(Date.parse(later.iso)).toBeGreaterThanOrEqual(Date.parse(first.iso));
    const metrics = json<LiveEvents['metrics']>((await live.waitForEvent((e) => e.event === 'metrics')).data);
    expect(metrics.streams.live).toBeGreaterThanOrEqual(1);
    expect(metrics.memoryMiB).toBeGreaterThan(0);
    live.close();
  });

  test.each([
    ['bad JSON', '{"text": "hi"', 400, /not valid JSON/],
    ['no text', '{}', 400, /text is required/],
    ['a text that is not a string', '{"text": 42}', 400, /text must be a string/],
    ['a blank text', '{"text": "   "}', 400, /text must not be empty/],
    ['an array', '["hi"]', 400, /JSON object/],
    ['a text that is too long', JSON.stringify({ text: 'x'.repeat(501) }), 400, /at most 500 characters/],
    ['a name that is not a string', '{"text": "hi", "name": 7}', 400, /name must be a string/],
    ['a body over 16 KiB', JSON.stringify({ text: 'x'.repeat(20_000) }), 413, /larger than/],
  ])('POST /messages with %s answers %i and says why', async (_case, body, status, message) => {
    const response = await fetch(`${app.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  test('POST /messages refuses a body that is not JSON with 415', async () => {
    const response = await fetch(`${app.url}/messages`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: string }).error).toMatch(/application\/json/);
  });

  test('POST /messages answers 201 with the message, trimmed, and broadcasts it on /chat with its id as the event id', async () => {
    const chat = await open('/chat');
    await chat.waitForEvent((e) => e.event === 'snapshot');
    const text = uniquePrefix('hello');
    const response = await fetch(`${app.url}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ text: `  ${text}  ` }),
    });
    expect(response.status).toBe(201);
    const posted = (await response.json()) as ChatMessage;
    expect(posted).toMatchObject({ text, name: 'guest' });
    const received = await chat.waitForEvent((e) => e.event === 'message');
    expect(received.id).toBe(posted.id);
    expect(json<ChatPost>(received.data)).toEqual({ name: posted.name, text: posted.text, at: posted.at });
    chat.close();
  });

  test('GET /chat replays what a client missed after its Last-Event-ID, and sends a snapshot for an id it never issued', async () => {
    const prefix = uniquePrefix('replay');
    const [a, b, c] = [await postMessage(app.url, `${prefix} a`), await postMessage(app.url, `${prefix} b`), await postMessage(app.url, `${prefix} c`)];

    const resumed = await open('/chat', { 'last-event-id': a.id });
    const sync = await resumed.waitForEvent((e) => e.event === 'sync');
    expect(json<ChatEvents['sync']>(sync.data)).toEqual({ mode: 'replay', count: 2 });
    expect(resumed.events.filter((e) => e.event === 'message').map((e) => e.id)).toEqual([b.id, c.id]);
    expect(resumed.events.some((e) => e.event === 'snapshot')).toBe(false);

    const stranger = await open('/chat', { 'last-event-id': 'an-id-from-another-process-1' });
    const snapshot = await stranger.waitForEvent((e) => e.event === 'snapshot');
    const { reason, messages } = json<ChatEvents['snapshot']>(snapshot.data);
    expect(reason).toBe('unknown-last-event-id');
    expect(messages.slice(-3)).toEqual([a, b, c]);
    // The snapshot carries the newest id, so the next reconnect can be replayed.
    expect(snapshot.id).toBe(c.id);
    // Before it, the gap event told the client in band that its id is unknown (no id line).
    expect(stranger.events[0]).toEqual({ event: 'sse-gap', data: JSON.stringify({ reason: 'unknown-id', lastEventId: 'an-id-from-another-process-1' }), id: undefined });
    expect(stranger.events.filter((e) => e.event === 'sse-gap')).toHaveLength(1);

    const newcomer = await open('/chat');
    expect(json<ChatEvents['snapshot']>((await newcomer.waitForEvent((e) => e.event === 'snapshot')).data).reason).toBe('first-connection');
    for (const reader of [resumed, stranger, newcomer]) reader.close();
  });

  test('GET /private answers 401 before any stream header without a valid token (a token in the URL is not read)', async () => {
    for (const [path, headers] of [
      ['/private', {}],
      ['/private?token=wrong', {}],
      [`/private?token=${TEST_TOKEN}`, {}],
      ['/private', { authorization: 'Bearer wrong' }],
      ['/private', { authorization: `Basic ${TEST_TOKEN}` }],
    ] as const) {
      const response = await fetch(`${app.url}${path}`, { headers: { accept: 'text/event-stream', ...headers } });
      expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
      expect(response.headers.get('content-type')).not.toMatch(/event-stream/);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.text()).toMatch(/token/);
    }
  });

  test('GET /private streams with the token as a Bearer header', async () => {
    const byHeader = await open('/private', { authorization: `Bearer ${TEST_TOKEN}` });
    await byHeader.waitForEvent((e) => e.event === 'private');
    byHeader.close();
  });

  test('GET /private allows 3 open streams per client; past it an EventSource is told to come back later, other clients get 429; a closed stream frees a slot', async () => {
    const auth = { authorization: `Bearer ${TEST_TOKEN}` };
    /** A /private stream that was let in: its first `private` event arrives (a refused one ends without any). */
    const openPrivate = async (): Promise<EventStreamClient> => {
      const reader = await open('/private', auth);
      await reader.waitForEvent((e) => e.event === 'private');
      return reader;
    };
    // Streams of the previous test may still be closing on the server: wait until 3 fit.
    const held: EventStreamClient[] = [];
    await vi.waitFor(
      async () => {
        while (held.length < 3) held.push(await openPrivate());
      },
      { timeout: 20_000, interval: 100 },
    );

    // An EventSource past the cap: a 200 event stream with only a retry (about 5 s), ended at once,
    // so it reconnects later (a 429 would stop it for good).
    const comeBack = await open('/private', auth);
    expect(await comeBack.waitForEnd()).toBe('end');
    expect(comeBack.events).toEqual([]);
    expect(comeBack.retries).toHaveLength(1);
    expect(comeBack.retries[0]).toBeGreaterThanOrEqual(4500);
    expect(comeBack.retries[0]).toBeLessThanOrEqual(5500);
    // Any other client gets the status.
    const refused = await fetch(`${app.url}/private`, { headers: { accept: '*/*', ...auth } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('content-type')).not.toMatch(/event-stream/);
    await refused.text();
    // The page's own streams have a registry of their own: the cap on /private does not touch them.
    const live = await open('/sse');
    await live.waitForEvent((e) => e.event === 'welcome');
    live.close();
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metricValue(metrics, 'sse_private_rejected_total')).toBeGreaterThanOrEqual(2);
    expect(metricValue(metrics, 'sse_rejected_total')).toBe(0);

    held.shift()!.close();
    const again = await vi.waitFor(openPrivate, { timeout: 20_000, interval: 100 });
    for (const reader of [...held, again]) reader.close();
  });

  test('GET /metrics counts the open streams in Prometheus text', async () => {
    const live = await open('/sse');
    await live.waitForEvent((e) => e.event === 'welcome');
    const response = await fetch(`${app.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^# TYPE sse_streams_open gauge$/m);
    expect(text).toMatch(/^# TYPE sse_private_streams_open gauge$/m);
    expect(metricValue(text, 'sse_streams_open')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'sse_events_written_total')).toBeGreaterThanOrEqual(2);
    live.close();
  });

  test('SIGTERM: every open stream gets a shutting-down status and a clean end, new EventSources are told to come back later, posts get 503 + Retry-After, and the app exits with code 0', async () => {
    const doomed = await startApp(framework);
    const latecomers: HeldRequest[] = [];
    try {
      // Requests that will only be complete once the drain has started.
      for (const request of [
        { path: '/sse', headers: { accept: 'text/event-stream' } },
        { path: '/private', headers: { accept: 'text/event-stream', authorization: `Bearer ${TEST_TOKEN}` } },
        { method: 'POST', path: '/messages', headers: { 'content-type': 'application/json' }, body: '{"text": "too late"}' },
      ]) {
        latecomers.push(await holdRequest(doomed.port, request));
      }
      const live = await openEventStream(`${doomed.url}/sse`, { timeoutMs: STREAM_TIMEOUT_MS });
      const chat = await openEventStream(`${doomed.url}/chat`, { timeoutMs: STREAM_TIMEOUT_MS });
      const held = await openEventStream(`${doomed.url}/private`, { headers: { authorization: `Bearer ${TEST_TOKEN}` }, timeoutMs: STREAM_TIMEOUT_MS });
      await Promise.all([live.waitForEvent((e) => e.event === 'time'), chat.waitForEvent((e) => e.event === 'snapshot'), held.waitForEvent((e) => e.event === 'private')]);

      const exit = doomed.stop('SIGTERM');
      expect(await Promise.all([live.ended, chat.ended, held.ended])).toEqual(['end', 'end', 'end']);
      for (const reader of [live, chat, held]) {
        const last = reader.events.at(-1);
        expect(last?.event).toBe('status');
        expect(json<LiveEvents['status']>(last!.data).state).toBe('shutting-down');
      }

      const [lateLive, latePrivate, latePost] = await Promise.all(latecomers.map((request) => request.release()));
      // An EventSource that arrives during the drain is told to come back later: a 200 event
      // stream with only a `retry` (5 s, spread), ended at once; a 503 would stop it for good.
      for (const late of [lateLive, latePrivate]) {
        expect(late!.status).toBe(200);
        expect(late!.headers['content-type']).toMatch(/^text\/event-stream/);
        expect(late!.headers['retry-after']).toBeUndefined();
        const retry = /^retry: (\d+)$/m.exec(late!.body);
        expect(late!.body).not.toMatch(/^data:/m);
        expect(Number(retry?.[1])).toBeGreaterThanOrEqual(4500);
        expect(Number(retry?.[1])).toBeLessThanOrEqual(5500);
      }
      expect(latePost!.status).toBe(503);
      expect(latePost!.headers['retry-after']).toBe('2');
      expect(JSON.parse(latePost!.body)).toEqual({ error: expect.stringMatching(/shutting down/) });

      expect(await exit, doomed.output()).toEqual({ code: 0, signal: null });
    } finally {
      for (const request of latecomers) request.close();
      await doomed.stop('SIGKILL');
    }
  });
});
