// The rooms across instances: the Express, Hono and Koa apps as three instances of one app on
// one Redis Cluster (REDIS_CLUSTER_NODES, the Redis topic store of @sse/redis), and one Redis
// (REDIS_URL). A message posted to a room on one instance reaches that room's streams on every
// instance; a page resumes exactly after the restart of its instance.
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startRedisCluster, startRedisServer, type RedisCluster, type RedisServer } from '@sse/redis/testing';
import { openEventStream, type EventStreamClient } from '@sse/conformance';
import type { RoomEventData } from '@sse-example/shared';
import { FRAMEWORKS, STREAM_TIMEOUT_MS, startApp, testResultsDir, type Framework, type RunningApp } from './support/app.js';
import { launchBrowser } from './support/browser.js';
import { postRoomMessage, uniqueRoom } from './support/rooms.js';
import { dataset, joinRoom, shown, waitForDataset, waitForShown } from './support/rooms-page.js';

/** A room message: the hub writes `message` events without an `event` field. */
const isMessage = (e: { event?: string | undefined }): boolean => e.event === undefined || e.event === 'message';

/** `room|text` of every room message a Node client received, in order. */
const received = (client: EventStreamClient): string[] =>
  client.events
    .filter(isMessage)
    .map((e) => JSON.parse(e.data) as RoomEventData)
    .map(({ topic, data }) => `${topic.slice('room:'.length)}|${data.text}`);

test('a bad REDIS_CLUSTER_NODES stops an app at startup with one line that says which value and why', async () => {
  const bad = ['127.0.0.1', '127.0.0.1:7000,,127.0.0.1:7001', 'redis://127.0.0.1:7000', '127.0.0.1:99999'];
  const failures = await Promise.all(bad.map((value) => startApp('koa', { env: { REDIS_CLUSTER_NODES: value } }).then(() => 'started', (error: Error) => error.message)));
  for (const [index, failure] of failures.entries()) {
    expect(failure).toContain('Koa demo cannot start: REDIS_CLUSTER_NODES must be comma-separated host:port seeds of a Redis Cluster');
    expect(failure).toContain(`${JSON.stringify(index === 1 ? '' : bad[index])} is not one`);
    expect(failure, 'one line, no stack trace').not.toMatch(/\n\s+at /);
  }
}, 120_000); // a hang guard: four app starts through tsx

describe('the three apps as instances of one app, the rooms on one Redis Cluster', () => {
  let cluster: RedisCluster;
  const apps = {} as Record<Framework, RunningApp>;
  let browser: Browser;
  const readers: EventStreamClient[] = [];
  const contexts: BrowserContext[] = [];
  const screenshots = testResultsDir('express');

  const open = async (framework: Framework, path: string, headers?: Record<string, string>): Promise<EventStreamClient> => {
    const reader = await openEventStream(`${apps[framework].url}${path}`, { headers, timeoutMs: STREAM_TIMEOUT_MS });
    readers.push(reader);
    return reader;
  };

  async function openPage(framework: Framework): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 1200 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(apps[framework].url);
    return page;
  }

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const started = await Promise.all(FRAMEWORKS.map((framework) => startApp(framework, { redisClusterNodes: cluster.seeds })));
    for (const app of started) apps[app.framework] = app;
    browser = await launchBrowser();
  }, 180_000); // a hang guard: six redis-servers, three apps through tsx, Chromium

  afterEach(async () => {
    for (const reader of readers.splice(0)) reader.close();
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(Object.values(apps).map((app) => app.stop()));
    await cluster?.stop();
  });

  test('a message posted to a room on any instance reaches that room\'s streams on every instance, once each, in order', async () => {
    for (const framework of FRAMEWORKS) expect(apps[framework].output()).toContain(`rooms in the Redis Cluster at ${cluster.seeds.join(',')}`);
    const [a, b] = [uniqueRoom('xa'), uniqueRoom('xb')];
    const clients = await Promise.all(FRAMEWORKS.map((framework) => open(framework, `/events?rooms=${a},${b}`)));
    await Promise.all(clients.map((client) => client.waitForEvent((e) => e.event === 'joined')));

    await postRoomMessage(apps.express.url, a, 'a from express');
    await postRoomMessage(apps.koa.url, b, 'b from koa');
    await postRoomMessage(apps.hono.url, a, 'a from hono');
    for (const client of clients) {
      await client.waitForEvent((e) => isMessage(e) && e.data.includes('a from hono'));
      expect(received(client)).toEqual([`${a}|a from express`, `${b}|b from koa`, `${a}|a from hono`]);
      expect(client.events.some((e) => e.event === 'sse-gap')).toBe(false);
    }
  });

  test('Chromium: a page on one instance, in three rooms on one connection, shows the messages posted to them on another', async () => {
    const page = await openPage('hono');
    const rooms = [uniqueRoom('ca'), uniqueRoom('cb'), uniqueRoom('cc')];
    for (let i = 0; i < rooms.length; i++) await joinRoom(page, rooms[i]!, rooms.slice(0, i + 1));

    const posts = [[rooms[2]!, 'c first'], [rooms[0]!, 'a second'], [rooms[1]!, 'b third'], [rooms[0]!, 'a fourth']] as const;
    for (const [room, text] of posts) await postRoomMessage(apps.express.url, room, text);
    await waitForShown(page, `${rooms[0]}|a fourth`);
    expect(await shown(page)).toEqual(posts.map(([room, text]) => `${room}|${text}`));
    await page.screenshot({ path: `${screenshots}rooms-redis-cluster.png`, fullPage: true });
  });

  // Last: it replaces the Koa instance the other tests use.
  test('Chromium: after its instance restarts, the page resumes every room from Redis: exactly the messages posted meanwhile on another instance, in order, no gap, no repeat', async () => {
    const page = await openPage('koa');
    const [a, b] = [uniqueRoom('ra'), uniqueRoom('rb')];
    await joinRoom(page, a, [a]);
    await joinRoom(page, b, [a, b]);
    await postRoomMessage(apps.express.url, a, 'a before');
    await postRoomMessage(apps.koa.url, b, 'b before');
    await waitForShown(page, `${b}|b before`);
    const joins = Number(await dataset(page, '#rooms-state', 'joins'));

    const port = apps.koa.port;
    const exit = await apps.koa.stop('SIGTERM');
    expect(exit, apps.koa.output()).toEqual({ code: 0, signal: null });
    await waitForDataset(page, '#rooms-state', 'state', 'reconnecting');
    // Posted while the page's instance is gone: only Redis holds them.
    const missed = [[b, 'b missed 1'], [a, 'a missed 2'], [b, 'b missed 3']] as const;
    for (const [room, text] of missed) await postRoomMessage(apps.hono.url, room, text);
    apps.koa = await startApp('koa', { port, redisClusterNodes: cluster.seeds });

    // The browser comes back by itself, with its Last-Event-ID: both rooms resume from Redis.
    await waitForDataset(page, '#rooms-state', 'joins', String(joins + 1));
    await postRoomMessage(apps.express.url, a, 'a live');
    await waitForShown(page, `${a}|a live`);
    expect(await shown(page)).toEqual([`${a}|a before`, `${b}|b before`, ...missed.map(([room, text]) => `${room}|${text}`), `${a}|a live`]);
    expect(await page.$$eval('#room-list li', (items) => items.map((item) => (item as HTMLElement).dataset.gaps))).toEqual(['0', '0']);
    expect(await page.$$eval('#room-messages li .note', (notes) => notes.length)).toBe(0);
    await page.screenshot({ path: `${screenshots}rooms-redis-restart.png`, fullPage: true });
  }, 180_000); // a hang guard: an app restart and a reconnect on a possibly busy machine
});

describe('the rooms on one Redis (REDIS_URL)', () => {
  let redis: RedisServer;
  const apps: RunningApp[] = [];
  const readers: EventStreamClient[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    apps.push(...(await Promise.all((['express', 'hono'] as const).map((framework) => startApp(framework, { redisUrl: redis.url })))));
  }, 120_000); // a hang guard: redis-server and two apps through tsx

  afterAll(async () => {
    for (const reader of readers) reader.close();
    await Promise.all(apps.map((app) => app.stop()));
    await redis?.stop();
  });

  test('a client resumes on another instance from the id it saw: exactly what it missed, then live', async () => {
    const [express, hono] = apps as [RunningApp, RunningApp];
    expect(express.output()).toContain(`chat history in Redis at ${redis.url}, rooms in Redis at ${redis.url}`);
    const room = uniqueRoom('one');
    const first = await openEventStream(`${express.url}/rooms/${room}/events`, { timeoutMs: STREAM_TIMEOUT_MS });
    readers.push(first);
    await first.waitForEvent((e) => e.event === 'joined');
    await postRoomMessage(hono.url, room, 'seen');
    const seen = await first.waitForEvent(isMessage);
    first.close();

    await postRoomMessage(express.url, room, 'missed 1');
    await postRoomMessage(hono.url, room, 'missed 2');
    const resumed = await openEventStream(`${hono.url}/rooms/${room}/events`, { headers: { 'last-event-id': seen.id! }, timeoutMs: STREAM_TIMEOUT_MS });
    readers.push(resumed);
    await resumed.waitForEvent((e) => e.event === 'joined');
    await postRoomMessage(express.url, room, 'live');
    await resumed.waitForEvent((e) => isMessage(e) && e.data.includes('"live"'));
    expect(received(resumed)).toEqual([`${room}|missed 1`, `${room}|missed 2`, `${room}|live`]);
    expect(resumed.events.some((e) => e.event === 'sse-gap')).toBe(false);
  });

  // Last: it stops Redis for a moment.
  test('while Redis is down, POST /rooms/:room/messages answers 503 and says why; it works again once Redis is back', async () => {
    const [express] = apps as [RunningApp, RunningApp];
    const room = uniqueRoom('down');
    const post = (text: string): Promise<Response> =>
      fetch(`${express.url}/rooms/${room}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
    await redis.kill();
    try {
      const refused = await post('while down');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('2');
      expect(await refused.json()).toEqual({ error: 'the rooms cannot be reached right now; send it again in a moment' });
    } finally {
      await redis.restart();
    }
    // The store reconnects by itself: a bounded wait for it, then a post goes through.
    await vi.waitFor(async () => expect((await post('back')).status).toBe(201), { timeout: 30_000, interval: 250 });
  }, 60_000);
});
