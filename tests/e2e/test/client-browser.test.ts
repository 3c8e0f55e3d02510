// @sse/client in headless Chromium, against each sample app: the page's private stream sends its
// token as `Authorization: Bearer` (never in the URL), shows the status and body of a refusal,
// and sends a refreshed token when it reconnects to a restarted server; the client itself, loaded
// from the page's `/sse-client.js`, pauses while the page is hidden and resumes where it was.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FRAMEWORKS, TEST_TOKEN, startApp, testResultsDir, type RunningApp } from './support/app.js';
import { WAIT, launchBrowser } from './support/browser.js';
import { postRoomMessage, uniqueRoom } from './support/rooms.js';
import { dataset, waitForDataset } from './support/rooms-page.js';

/** What the page sent to a route, as Chromium saw it. */
interface SentRequest {
  url: string;
  authorization: string | undefined;
  lastEventId: string | undefined;
}

describe.each(FRAMEWORKS)('the %s app: @sse/client in Chromium', (framework) => {
  let app: RunningApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const screenshots = testResultsDir(framework);

  /** Opens the page; `sent` collects every request to `path`, `aborted` those Chromium saw cut. */
  async function openPage(path: string): Promise<{ page: Page; sent: SentRequest[]; aborted: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 1200 } });
    contexts.push(context);
    const page = await context.newPage();
    const sent: SentRequest[] = [];
    const aborted: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname !== path) return;
      const headers = request.headers();
      sent.push({ url: request.url(), authorization: headers.authorization, lastEventId: headers['last-event-id'] });
    });
    page.on('requestfailed', (request) => {
      if (new URL(request.url()).pathname === path) aborted.push(request.url());
    });
    await page.goto(app.url);
    return { page, sent, aborted };
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

  test('/private: the token goes in an Authorization header, never the URL; a refusal shows its status and body', async () => {
    const { page, sent } = await openPage('/private');
    await page.fill('#private-token', 'wrong-token');
    await page.click('#private-form button[type=submit]');
    await waitForDataset(page, '#private-state', 'state', 'refused');
    expect(await dataset(page, '#private-state', 'status')).toBe('401');
    expect(await page.textContent('#private-state')).toBe('refused (401): the token is not valid');
    // Not retried: one request, and the page stays refused.
    expect(sent).toHaveLength(1);

    await page.fill('#private-token', TEST_TOKEN);
    await page.click('#private-form button[type=submit]');
    await waitForDataset(page, '#private-state', 'state', 'open');
    await page.waitForFunction(() => (document.getElementById('private-log')?.childElementCount ?? 0) >= 2, undefined, WAIT);
    expect(sent.map((request) => request.authorization)).toEqual(['Bearer wrong-token', `Bearer ${TEST_TOKEN}`]);
    expect(sent.every((request) => new URL(request.url).search === '')).toBe(true);
    await page.click('#private-disconnect');
  });

  test('the client pauses while the page is hidden (pauseWhenHidden) and, visible again, resumes from its Last-Event-ID: nothing missed', async () => {
    const { page, sent, aborted } = await openPage('/events');
    const room = uniqueRoom('vis');
    // The page's own copy of @sse/client, as the page loads it. (A string: the test runner would
    // rewrite a dynamic import() in a function body.)
    await page.evaluate(`(async () => {
      const { createClient } = await import('/sse-client.js');
      const seen = [];
      const states = [];
      const client = createClient('/events', { topics: [${JSON.stringify(room)}], topicsParam: 'rooms', pauseWhenHidden: true });
      client.on('joined', () => states.push('joined'));
      client.onTopic('message', (data) => seen.push(data.text));
      window.visibilityTest = { client, seen, states };
    })()`);
    type VisibilityTest = { client: { state: string; lastEventId: string }; seen: string[]; states: string[] };
    const read = (): Promise<{ state: string; lastEventId: string; seen: string[]; joins: number }> =>
      page.evaluate(() => {
        const t = (window as unknown as { visibilityTest: VisibilityTest }).visibilityTest;
        return { state: t.client.state, lastEventId: t.client.lastEventId, seen: [...t.seen], joins: t.states.length };
      });
    const waitFor = async (condition: (now: Awaited<ReturnType<typeof read>>) => boolean): Promise<void> => {
      await expect.poll(async () => condition(await read()), WAIT).toBe(true);
    };

    await waitFor((now) => now.joins === 1);
    await postRoomMessage(app.url, room, 'seen live');
    await waitFor((now) => now.seen.length === 1);

    const setHidden = (hidden: boolean): Promise<void> =>
      page.evaluate((value) => {
        Object.defineProperty(document, 'visibilityState', { value: value ? 'hidden' : 'visible', configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    await setHidden(true);
    await waitFor((now) => now.state === 'paused');
    // The connection was closed, not left open.
    await expect.poll(() => aborted.length, WAIT).toBe(1);
    const { lastEventId: position } = await read();
    await postRoomMessage(app.url, room, 'posted while hidden');
    expect(sent).toHaveLength(1);

    await setHidden(false);
    await waitFor((now) => now.joins === 2 && now.seen.length === 2);
    expect((await read()).seen).toEqual(['seen live', 'posted while hidden']);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.lastEventId).toBe(position);
  });

  // Last: it replaces the app process the other tests use.
  test('/private: after a server restart the client reconnects by itself, sending the token the field holds now (a refreshed one)', async () => {
    const { page, sent } = await openPage('/private');
    await page.fill('#private-token', TEST_TOKEN);
    await page.click('#private-form button[type=submit]');
    await waitForDataset(page, '#private-state', 'opens', '1');

    // The token is rotated: the server restarts with a new one, and the page's field gets it.
    const rotated = `${TEST_TOKEN}-rotated`;
    const exit = await app.stop('SIGTERM');
    expect(exit, app.output()).toEqual({ code: 0, signal: null });
    await page.fill('#private-token', rotated);
    app = await startApp(framework, { port: app.port, env: { PRIVATE_TOKEN: rotated } });

    await waitForDataset(page, '#private-state', 'opens', '2');
    await page.waitForFunction(() => [...document.querySelectorAll('#private-log li')].some((item) => item.textContent?.includes('only holders of the token')), undefined, WAIT);
    expect(await dataset(page, '#private-state', 'state')).toBe('open');
    // The first request had the old token; the one that opened after the restart, the new one.
    expect(sent[0]?.authorization).toBe(`Bearer ${TEST_TOKEN}`);
    expect(sent.at(-1)?.authorization).toBe(`Bearer ${rotated}`);
    await page.screenshot({ path: `${screenshots}private-rotated.png`, fullPage: true });
  }, 180_000); // a hang guard: an app restart and a reconnect on a possibly busy machine
});
