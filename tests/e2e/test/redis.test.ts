// The apps with REDIS_URL set: Express, Hono and Koa run as three instances of one app, sharing
// the chat through one redis-server. Same routes, same page: a client may reach any instance.
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startRedisServer, type RedisServer } from '@sse/redis/testing';
import type { ChatEvents, ChatPost } from '@sse-example/shared';
import { openEventStream, type EventStreamClient } from '@sse/conformance';
import { FRAMEWORKS, STREAM_TIMEOUT_MS, startApp, testResultsDir, type Framework, type RunningApp } from './support/app.js';
import { WAIT, chatTexts, launchBrowser, waitForChatText } from './support/browser.js';
import { postMessage, uniquePrefix } from './support/http.js';
import { startProxy } from './support/proxy.js';

const json = <T>(text: string): T => JSON.parse(text) as T;

/** The chat's Redis Stream key (apps/shared's CHAT_REDIS_STREAM). */
const CHAT_REDIS_STREAM = 'sse-example:chat';

/** Sends one command to the redis-server in RESP, as redis-cli would, and resolves with the raw answer. */
function redisCommand(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`);
    });
    socket.once('data', (answer) => {
      socket.end();
      resolve(answer.toString('latin1'));
    });
    socket.once('error', reject);
  });
}

describe('the three apps as instances of one app over one Redis', () => {
  let redis: RedisServer;
  const apps = {} as Record<Framework, RunningApp>;
  const readers: EventStreamClient[] = [];
  const contexts: BrowserContext[] = [];
  let browser: Browser | undefined;

  const open = async (framework: Framework, path: string, headers?: Record<string, string>): Promise<EventStreamClient> => {
    const reader = await openEventStream(`${apps[framework].url}${path}`, { headers, timeoutMs: STREAM_TIMEOUT_MS });
    readers.push(reader);
    return reader;
  };
  const url = (framework: Framework): string => apps[framework].url;
  const messagesOf = (reader: EventStreamClient): Array<{ id: string | undefined; text: string }> =>
    reader.events.filter((e) => e.event === 'message').map((e) => ({ id: e.id, text: json<ChatPost>(e.data).text }));

  beforeAll(async () => {
    redis = await startRedisServer({ appendOnly: true });
    const started = await Promise.all(FRAMEWORKS.map((framework) => startApp(framework, { redisUrl: redis.url })));
    for (const app of started) apps[app.framework] = app;
  });

  afterEach(async () => {
    for (const reader of readers.splice(0)) reader.close();
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(Object.values(apps).map((app) => app.stop()));
    await redis?.stop();
  });

  test('a message posted to one instance reaches the chat clients of every instance, with the same id', async () => {
    for (const framework of FRAMEWORKS) expect(apps[framework].output()).toContain(`chat history in Redis at ${redis.url}`);
    const clients = await Promise.all(FRAMEWORKS.map((framework) => open(framework, '/chat')));
    await Promise.all(clients.map((client) => client.waitForEvent((e) => e.event === 'snapshot')));

    const posted = await postMessage(url('express'), uniquePrefix('fan-out'));
    // The id is the Redis stream id, the same everywhere.
    expect(posted.id).toMatch(/^\d+-\d+$/);
    for (const client of clients) {
      const received = await client.waitForEvent((e) => e.event === 'message' && e.id === posted.id);
      expect(json<ChatPost>(received.data)).toEqual({ name: posted.name, text: posted.text, at: posted.at });
    }
  });

  test('a client that reconnects to another instance with the id it saw gets what it missed, once, in order, then live messages', async () => {
    const prefix = uniquePrefix('move');
    const first = await open('hono', '/chat');
    await first.waitForEvent((e) => e.event === 'snapshot');
    const seen = await postMessage(url('koa'), `${prefix} 1`);
    await first.waitForEvent((e) => e.id === seen.id);
    first.close();

    const missed = [await postMessage(url('express'), `${prefix} 2`), await postMessage(url('hono'), `${prefix} 3`)];
    const resumed = await open('koa', '/chat', { 'last-event-id': seen.id });
    const sync = await resumed.waitForEvent((e) => e.event === 'sync');
    expect(json<ChatEvents['sync']>(sync.data)).toEqual({ mode: 'replay', count: 2 });
    expect(resumed.events.some((e) => e.event === 'snapshot')).toBe(false);
    expect(messagesOf(resumed)).toEqual(missed.map(({ id, text }) => ({ id, text })));

    const after = await postMessage(url('express'), `${prefix} 4`);
    await resumed.waitForEvent((e) => e.id === after.id);
    expect(messagesOf(resumed)).toEqual([...missed, after].map(({ id, text }) => ({ id, text })));
  });

  test('an unknown id and a first connection get a snapshot of the shared history, newest id last', async () => {
    const prefix = uniquePrefix('shared');
    const posted = [
      await postMessage(url('express'), `${prefix} 1`),
      await postMessage(url('hono'), `${prefix} 2`),
      await postMessage(url('koa'), `${prefix} 3`),
    ];

    const stranger = await open('koa', '/chat', { 'last-event-id': 'an-id-from-an-in-memory-history-1' });
    const refresh = await stranger.waitForEvent((e) => e.event === 'snapshot');
    expect(json<ChatEvents['snapshot']>(refresh.data).reason).toBe('unknown-last-event-id');
    expect(json<ChatEvents['snapshot']>(refresh.data).messages.slice(-3)).toEqual(posted);
    expect(refresh.id).toBe(posted[2]!.id);

    const newcomer = await open('hono', '/chat');
    const snapshot = await newcomer.waitForEvent((e) => e.event === 'snapshot');
    expect(json<ChatEvents['snapshot']>(snapshot.data)).toMatchObject({ reason: 'first-connection' });
    expect(json<ChatEvents['snapshot']>(snapshot.data).messages.slice(-3)).toEqual(posted);
    expect(snapshot.id).toBe(posted[2]!.id);

    // What follows the snapshot arrives live, once, on both.
    const next = await postMessage(url('express'), `${prefix} 4`);
    for (const reader of [stranger, newcomer]) {
      await reader.waitForEvent((e) => e.id === next.id);
      expect(messagesOf(reader)).toEqual([{ id: next.id, text: next.text }]);
    }
  });

  test('in Chromium: a page behind a load balancer whose instance goes away catches up on another instance', async () => {
    browser = await launchBrowser();
    // The proxy plays the load balancer: one address for the page, an instance behind it.
    const balancer = await startProxy(apps.express.port);
    try {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      contexts.push(context);
      const page: Page = await context.newPage();
      await page.goto(`http://127.0.0.1:${balancer.port}/`);
      await page.waitForFunction(() => document.getElementById('framework')?.textContent === 'Express', undefined, WAIT);
      await page.waitForFunction(() => document.getElementById('chat-state')?.dataset.state === 'open', undefined, WAIT);
      const prefix = uniquePrefix('failover');
      await postMessage(url('express'), `${prefix} 1`);
      await waitForChatText(page, `${prefix} 1`);
      const syncs = await page.$eval('#chat-sync', (node) => Number((node as HTMLElement).dataset.syncs));

      // Express goes away: the balancer sends new connections to Hono; meanwhile Koa takes posts.
      balancer.retarget(apps.hono.port);
      balancer.cut();
      await page.waitForFunction(() => document.getElementById('chat-state')?.dataset.state === 'reconnecting', undefined, WAIT);
      await postMessage(url('koa'), `${prefix} 2 (missed)`);
      await postMessage(url('koa'), `${prefix} 3 (missed)`);
      balancer.restore();

      await page.waitForFunction((before) => Number(document.getElementById('chat-sync')?.dataset.syncs) > before, syncs, WAIT);
      expect(await page.$eval('#chat-sync', (node) => ({ ...(node as HTMLElement).dataset }))).toMatchObject({ mode: 'replay', count: '2' });
      await page.waitForFunction(() => document.getElementById('framework')?.textContent === 'Hono', undefined, WAIT);
      const last = `${prefix} 4 last`;
      await postMessage(url('express'), last);
      await waitForChatText(page, last);
      expect(await chatTexts(page, prefix)).toEqual([`${prefix} 1`, `${prefix} 2 (missed)`, `${prefix} 3 (missed)`, last]);
      await page.screenshot({ path: `${testResultsDir('hono')}redis-failover.png`, fullPage: true });
    } finally {
      await balancer.close();
    }
  });

  test('in Chromium: a page whose chat history is wiped in Redis is told in band (sse-gap) and refetches: every message once', async () => {
    browser ??= await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    contexts.push(context);
    const page: Page = await context.newPage();
    await page.goto(`${url('express')}/`);
    await page.waitForFunction(() => document.getElementById('chat-state')?.dataset.state === 'open', undefined, WAIT);
    const prefix = uniquePrefix('wiped');
    await postMessage(url('express'), `${prefix} 1`);
    await waitForChatText(page, `${prefix} 1`);

    // Anything with write access can do this; the instances' readers see the stream start over.
    await redisCommand(redis.port, ['DEL', CHAT_REDIS_STREAM]);
    await postMessage(url('koa'), `${prefix} 2 (after the wipe)`);
    await page.waitForFunction(() => document.getElementById('chat-sync')?.dataset.mode === 'refetch:reset', undefined, WAIT);
    expect(await page.$eval('#chat-sync', (node) => ({ ...(node as HTMLElement).dataset }))).toMatchObject({ gap: 'reset', gaps: '1' });
    await waitForChatText(page, `${prefix} 2 (after the wipe)`);
    const last = `${prefix} 3 last`;
    await postMessage(url('hono'), last);
    await waitForChatText(page, last);
    expect(await chatTexts(page, prefix)).toEqual([`${prefix} 1`, `${prefix} 2 (after the wipe)`, last]);
    await page.screenshot({ path: `${testResultsDir('express')}redis-wiped.png`, fullPage: true });
  });

  // Last: it stops the shared redis-server.
  test('while Redis is down, POST /messages answers 503 and says why; the instances keep serving and recover with it', async () => {
    const listener = await open('hono', '/chat');
    await listener.waitForEvent((e) => e.event === 'snapshot');
    await redis.kill();

    const refused = await fetch(`${url('express')}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'while Redis is down' }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(((await refused.json()) as { error: string }).error).toMatch(/cannot be reached right now/);
    expect((await fetch(`${url('express')}/`)).status).toBe(200);

    await redis.restart();
    const text = uniquePrefix('recovered');
    // ioredis reconnects by itself, after a back-off: until then posts keep answering 503.
    const posted = await vi.waitFor(() => postMessage(url('express'), text), { timeout: 20_000, interval: 250 });
    // The stream stayed open through the outage and gets live messages again.
    await listener.waitForEvent((e) => e.id === posted.id);
    expect(await Promise.race([listener.ended, 'open'])).toBe('open');
    for (const framework of FRAMEWORKS) {
      expect(await Promise.race([apps[framework].exited.then(() => 'exited'), 'running'])).toBe('running');
    }
  });
});
