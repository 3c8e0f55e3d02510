// The sample apps in a real browser: headless Chromium (Debian's) runs the shared page against
// each app on Node, and against the Hono app on Bun and on Deno, with the browser's own
// EventSource. Each test saves a screenshot under apps/<framework>/test-results/ (the other
// runtimes' under …/test-results/<runtime>/) for a person to look at.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FRAMEWORKS, HONO_RUNTIMES, TEST_TICK_MS, TEST_TOKEN, startApp, testResultsDir, type Framework, type Runtime, type RunningApp } from './support/app.js';
import { WAIT, chatTexts, launchBrowser, waitForChatText } from './support/browser.js';
import { postMessage, uniquePrefix } from './support/http.js';
import { startProxy } from './support/proxy.js';

const dataset = (page: Page, selector: string, key: string): Promise<string | undefined> =>
  page.$eval(selector, (node, name) => (node as HTMLElement).dataset[name], key);

const waitForDataset = (page: Page, selector: string, key: string, value: string): Promise<unknown> =>
  page.waitForFunction(
    ([sel, name, wanted]) => (document.querySelector(sel) as HTMLElement | null)?.dataset[name!] === wanted,
    [selector, key, value] as const,
    WAIT,
  );

/** Every app on Node, and the Hono app on each other runtime (only this file's tests run there): name, app, runtime. */
const TARGETS: ReadonlyArray<readonly [string, Framework, Runtime]> = [
  ...FRAMEWORKS.map((framework) => [framework, framework, 'node'] as const),
  ...HONO_RUNTIMES.map((runtime) => [`hono (${runtime})`, 'hono', runtime] as const),
];

describe.each(TARGETS)('the %s app in Chromium', (_name, framework, runtime) => {
  let app: RunningApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const screenshots = testResultsDir(framework, runtime);

  async function openPage(url = app.url): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(url);
    await waitForDataset(page, '#status', 'connection', 'open');
    await waitForDataset(page, '#chat-state', 'state', 'open');
    return page;
  }

  /**
   * Posts a last message and waits for it: every event sent before it has then reached the
   * page, so the list can be checked for a message shown twice or out of order.
   */
  async function expectChatExactly(page: Page, baseUrl: string, prefix: string, expected: string[]): Promise<void> {
    const last = `${prefix} last`;
    await postMessage(baseUrl, last);
    await waitForChatText(page, last);
    expect(await chatTexts(page, prefix)).toEqual([...expected, last]);
  }

  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp(framework, { runtime }), launchBrowser()]);
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  test('the clock advances, and the JSON metrics and the status event render', async () => {
    const page = await openPage();
    await page.waitForFunction(() => Number(document.getElementById('clock')?.dataset.tick) > 0, undefined, WAIT);
    const firstTick = Number(await dataset(page, '#clock', 'tick'));
    const firstTime = await page.textContent('#clock');
    // The clock shows seconds: with a 200 ms tick, a few ticks pass before the text changes.
    await page.waitForFunction((shown) => document.getElementById('clock')?.textContent !== shown, firstTime, WAIT);
    expect(Number(await dataset(page, '#clock', 'tick'))).toBeGreaterThan(firstTick);

    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('metric-live')?.textContent ?? ''), undefined, WAIT);
    expect(Number(await page.textContent('#metric-live'))).toBeGreaterThanOrEqual(1);
    expect(Number(await page.textContent('#metric-chat'))).toBeGreaterThanOrEqual(1);
    expect(await page.textContent('#metric-memory')).toMatch(/^\d+(\.\d)? MiB$/);
    expect(await page.textContent('#metric-uptime')).toMatch(/^\d+ s$/);

    expect(await page.textContent('#framework')).toMatch(new RegExp(`^${framework}$`, 'i'));
    expect(await page.textContent('#tick-ms')).toBe(String(TEST_TICK_MS));
    expect(await dataset(page, '#status', 'server')).toBe('ok');
    expect(await page.textContent('#status')).toBe(`Live · server: streaming every ${TEST_TICK_MS} ms`);
    await page.screenshot({ path: `${screenshots}live.png`, fullPage: true });
  });

  test('a message posted in one page appears in another, as plain text', async () => {
    const [alice, bob] = await Promise.all([openPage(), openPage()]);
    const prefix = uniquePrefix('chat');
    const text = `${prefix} <img src=x onerror="document.body.dataset.pwned='yes'"> <b>not bold</b>`;
    await alice.fill('#chat-name', 'alice <i>');
    await alice.fill('#chat-text', text);
    await alice.click('#chat-form button[type=submit]');

    await waitForChatText(bob, text);
    const shown = await bob.$eval('#messages li:last-child', (item) => ({
      name: item.querySelector('.name')?.textContent,
      elements: item.querySelectorAll('img, b, i').length,
    }));
    expect(shown).toEqual({ name: 'alice <i>', elements: 0 });
    expect(await bob.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
    await waitForChatText(alice, text);
    // The page clears the input once the POST is answered, which may come after the event itself.
    await alice.waitForFunction(() => (document.getElementById('chat-text') as HTMLInputElement).value === '', undefined, WAIT);
    expect(await alice.inputValue('#chat-text')).toBe('');

    // The server's 400 reaches the person who typed, in words.
    await alice.fill('#chat-text', '   ');
    await alice.click('#chat-form button[type=submit]');
    await alice.waitForFunction(() => document.getElementById('chat-error')?.textContent !== '', undefined, WAIT);
    expect(await alice.textContent('#chat-error')).toBe('Not sent (400): text must not be empty');
    await bob.screenshot({ path: `${screenshots}chat.png`, fullPage: true });
  });

  test('a page that reloads shows every message, once, in order', async () => {
    const page = await openPage();
    const prefix = uniquePrefix('reload');
    await postMessage(app.url, `${prefix} 1`);
    await postMessage(app.url, `${prefix} 2`);
    await waitForChatText(page, `${prefix} 2`);

    const reloading = page.reload();
    await postMessage(app.url, `${prefix} 3 (while reloading)`);
    await reloading;
    await waitForDataset(page, '#chat-state', 'state', 'open');
    await expectChatExactly(page, app.url, prefix, [`${prefix} 1`, `${prefix} 2`, `${prefix} 3 (while reloading)`]);
    expect(await dataset(page, '#chat-sync', 'mode')).toBe('snapshot:first-connection');
    await page.screenshot({ path: `${screenshots}reload.png`, fullPage: true });
  });

  test('a page whose connection drops catches up from Last-Event-ID: every missed message, once, in order', async () => {
    const proxy = await startProxy(app.port);
    try {
      const page = await openPage(`http://127.0.0.1:${proxy.port}`);
      const prefix = uniquePrefix('drop');
      await postMessage(app.url, `${prefix} 1`);
      await waitForChatText(page, `${prefix} 1`);
      const syncs = Number(await dataset(page, '#chat-sync', 'syncs'));

      proxy.cut();
      await waitForDataset(page, '#chat-state', 'state', 'reconnecting');
      await postMessage(app.url, `${prefix} 2 (missed)`);
      await postMessage(app.url, `${prefix} 3 (missed)`);
      proxy.restore();

      await page.waitForFunction((before) => Number(document.getElementById('chat-sync')?.dataset.syncs) > before, syncs, WAIT);
      expect(await dataset(page, '#chat-sync', 'mode')).toBe('replay');
      expect(await dataset(page, '#chat-sync', 'count')).toBe('2');
      await expectChatExactly(page, app.url, prefix, [`${prefix} 1`, `${prefix} 2 (missed)`, `${prefix} 3 (missed)`]);
      await waitForDataset(page, '#status', 'connection', 'open');
      await page.screenshot({ path: `${screenshots}dropped-connection.png`, fullPage: true });
    } finally {
      await proxy.close();
    }
  });

  test('/private without a token never opens; with the token it streams', async () => {
    const page = await openPage();
    // A bare EventSource, as any script could open it.
    const bare = await page.evaluate(
      () =>
        new Promise<{ opened: boolean; readyState: number }>((resolve) => {
          const source = new EventSource('/private');
          let opened = false;
          source.onopen = () => (opened = true);
          source.onerror = () => {
            if (source.readyState === EventSource.CLOSED) resolve({ opened, readyState: source.readyState });
          };
        }),
    );
    expect(bare).toEqual({ opened: false, readyState: 2 });

    // The page's own form: no token, then a wrong one, then the right one.
    for (const token of ['', 'wrong-token']) {
      await page.fill('#private-token', token);
      await page.click('#private-form button[type=submit]');
      await waitForDataset(page, '#private-state', 'state', 'refused');
      expect(await dataset(page, '#private-state', 'opened')).toBe('false');
    }
    await page.fill('#private-token', TEST_TOKEN);
    await page.click('#private-form button[type=submit]');
    await waitForDataset(page, '#private-state', 'state', 'open');
    await page.waitForFunction(() => (document.getElementById('private-log')?.childElementCount ?? 0) >= 2, undefined, WAIT);
    await page.screenshot({ path: `${screenshots}private.png`, fullPage: true });
    await page.click('#private-disconnect');
  });

  // Last: it replaces the app process the other tests use.
  test('a page whose server restarts reconnects and shows every message, once, in order', async () => {
    const page = await openPage();
    const prefix = uniquePrefix('restart');
    await postMessage(app.url, `${prefix} 1`);
    await postMessage(app.url, `${prefix} 2`);
    await waitForChatText(page, `${prefix} 2`);

    const exit = await app.stop('SIGTERM');
    expect(exit, app.output()).toEqual({ code: 0, signal: null });
    await waitForDataset(page, '#status', 'connection', 'reconnecting');
    expect(await dataset(page, '#status', 'server')).toBe('shutting-down');

    app = await startApp(framework, { port: app.port, runtime });
    // Posted to the new process, most likely before the page is back: it must still appear once.
    await postMessage(app.url, `${prefix} 3 (after the restart)`);
    await waitForDataset(page, '#chat-sync', 'mode', 'snapshot:unknown-last-event-id');
    // The new process did not know the page's last id: it said so in band before the snapshot.
    expect(await dataset(page, '#chat-sync', 'gap')).toBe('unknown-id');
    await waitForDataset(page, '#status', 'server', 'ok');
    await expectChatExactly(page, app.url, prefix, [`${prefix} 1`, `${prefix} 2`, `${prefix} 3 (after the restart)`]);
    await page.screenshot({ path: `${screenshots}restart.png`, fullPage: true });
  }, 180_000); // a hang guard: two app starts and a browser reload on a possibly busy machine
});
