// The rooms of the sample page in headless Chromium: the page joins and leaves rooms on ONE
// @sse/client connection (`/events?rooms=…`), shows what each room receives, and says which rooms missed
// messages when the server cannot replay them (an in-memory hub after a restart).
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FRAMEWORKS, startApp, testResultsDir, type RunningApp } from './support/app.js';
import { launchBrowser } from './support/browser.js';
import { startProxy } from './support/proxy.js';
import { postRoomMessage, uniqueRoom } from './support/rooms.js';
import { dataset, joinRoom as join, shown, waitForDataset, waitForShown } from './support/rooms-page.js';

describe.each(FRAMEWORKS)('the %s app: rooms in Chromium', (framework) => {
  let app: RunningApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const screenshots = testResultsDir(framework);

  /** Opens the page; `streams` collects the URL of every rooms EventSource it opens. */
  async function openPage(url = app.url): Promise<{ page: Page; streams: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 1200 } });
    contexts.push(context);
    const page = await context.newPage();
    const streams: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/events') streams.push(`${url.pathname}${url.search}`);
    });
    await page.goto(url);
    return { page, streams };
  }

  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp(framework), launchBrowser()]);
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  test('joins two rooms on one connection, receives both, posts from the page, leaves one', async () => {
    const { page, streams } = await openPage();
    const [a, b] = [uniqueRoom('ja'), uniqueRoom('jb')];
    await join(page, a, [a]);
    await join(page, b, [a, b]);
    // One stream at a time: joining re-opened it with both rooms, never a second one per room.
    expect(streams).toEqual([`/events?rooms=${a}`, `/events?rooms=${a},${b}`]);

    await postRoomMessage(app.url, a, 'hello a');
    await postRoomMessage(app.url, b, 'hello b');
    // Text that would be markup if it were ever set as HTML.
    const markup = '<img src=x onerror="document.body.dataset.injected=1"><b>bold</b>';
    await postRoomMessage(app.url, b, markup);
    await waitForShown(page, `${b}|${markup}`);

    await page.selectOption('#room-select', a);
    await page.fill('#room-text', 'from the page');
    await page.click('#room-form button[type=submit]');
    await waitForShown(page, `${a}|from the page`);
    expect(await shown(page)).toEqual([`${a}|hello a`, `${b}|hello b`, `${b}|${markup}`, `${a}|from the page`]);
    expect(await page.$$eval('#room-messages img, #room-messages b', (nodes) => nodes.length)).toBe(0);
    expect(await dataset(page, 'body', 'injected')).toBeUndefined();

    await page.click(`#room-list li[data-room="${a}"] button.leave`);
    await waitForDataset(page, '#rooms-state', 'rooms', b);
    expect(streams.at(-1)).toBe(`/events?rooms=${b}`);
    expect(await page.$$eval('#room-list li', (items) => items.map((item) => (item as HTMLElement).dataset.room))).toEqual([b]);
    // Posted in this order on one stream: once b's arrives, a's would have arrived before it.
    await postRoomMessage(app.url, a, 'a after leaving');
    await postRoomMessage(app.url, b, 'b after leaving');
    await waitForShown(page, `${b}|b after leaving`);
    expect(await shown(page)).not.toContain(`${a}|a after leaving`);
    await page.screenshot({ path: `${screenshots}rooms.png`, fullPage: true });
  });

  test('a dropped connection resumes both rooms from the one Last-Event-ID: every missed message, once, in order, no gap', async () => {
    const proxy = await startProxy(app.port);
    try {
      const { page } = await openPage(`http://127.0.0.1:${proxy.port}`);
      const [a, b] = [uniqueRoom('da'), uniqueRoom('db')];
      await join(page, a, [a]);
      await join(page, b, [a, b]);
      await postRoomMessage(app.url, a, 'a seen');
      await waitForShown(page, `${a}|a seen`);
      const joins = Number(await dataset(page, '#rooms-state', 'joins'));

      proxy.cut();
      await waitForDataset(page, '#rooms-state', 'state', 'reconnecting');
      await postRoomMessage(app.url, b, 'b missed');
      await postRoomMessage(app.url, a, 'a missed');
      proxy.restore();

      await waitForDataset(page, '#rooms-state', 'joins', String(joins + 1));
      await postRoomMessage(app.url, b, 'b live');
      await waitForShown(page, `${b}|b live`);
      expect(await shown(page)).toEqual([`${a}|a seen`, `${b}|b missed`, `${a}|a missed`, `${b}|b live`]);
      expect(await page.$$eval('#room-list li', (items) => items.map((item) => (item as HTMLElement).dataset.gaps))).toEqual(['0', '0']);
    } finally {
      await proxy.close();
    }
  });

  // Last: it replaces the app process the other tests use.
  test('after a server restart the page reconnects by itself; the in-memory rooms lost their history, so it shows sse-gap for both, then live messages', async () => {
    const { page } = await openPage();
    const [a, b] = [uniqueRoom('sa'), uniqueRoom('sb')];
    await join(page, a, [a]);
    await join(page, b, [a, b]);
    await postRoomMessage(app.url, a, 'a before');
    await postRoomMessage(app.url, b, 'b before');
    await waitForShown(page, `${b}|b before`);
    const joins = Number(await dataset(page, '#rooms-state', 'joins'));

    const exit = await app.stop('SIGTERM');
    expect(exit, app.output()).toEqual({ code: 0, signal: null });
    await waitForDataset(page, '#rooms-state', 'state', 'reconnecting');
    app = await startApp(framework, { port: app.port });

    // The browser came back by itself with its Last-Event-ID (both rooms at their old epoch). An
    // in-memory hub cannot replay what the old process held: it says so for each room, in band.
    await waitForDataset(page, '#rooms-state', 'joins', String(joins + 1));
    for (const room of [a, b]) expect(await dataset(page, `#room-list li[data-room="${room}"]`, 'gap')).toBe('reset');
    expect(await page.$$eval('#room-messages li .note', (notes) => notes.length)).toBe(2);

    // Posted once the rooms are live again (a message posted before the reconnect is what the gap announced).
    await postRoomMessage(app.url, a, 'a after');
    await postRoomMessage(app.url, b, 'b after');
    await waitForShown(page, `${b}|b after`);
    expect(await shown(page)).toEqual([`${a}|a before`, `${b}|b before`, `${a}|a after`, `${b}|b after`]);
    await page.screenshot({ path: `${screenshots}rooms-restart.png`, fullPage: true });
  }, 180_000); // a hang guard: an app restart and a reconnect on a possibly busy machine
});
