// The page as a newcomer first sees it, at a phone's, a tablet's and a desktop's width: the
// clock and the metrics show real values as soon as the stream opens (not placeholders until
// the first tick), the clock fits its card, the first row uses the width, and the chat's
// "No messages yet" goes once a message arrives. Screenshots: apps/express/test-results/layout-*.png.
// One app is enough: the page and the live feed are shared code (browser.test.ts runs all three).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startApp, testResultsDir, type RunningApp } from './support/app.js';
import { WAIT, launchBrowser, waitForChatText } from './support/browser.js';

/** An hour: no tick comes during a test, so whatever the clock shows came with the stream's opening. */
const NO_TICK_MS = 3_600_000;
const WIDTHS = [390, 800, 1280];

interface Fit {
  text: string;
  clock: { scrollWidth: number; clientWidth: number };
  card: { scrollWidth: number; clientWidth: number };
  page: { scrollWidth: number; clientWidth: number };
}

/** How the clock fits, with `text` in it (the page puts it back afterwards). */
function measureClock(page: Page, text?: string): Promise<Fit> {
  return page.evaluate((shown) => {
    const clock = document.getElementById('clock')!;
    const card = clock.closest('.card')!;
    const before = clock.textContent ?? '';
    if (shown !== undefined) clock.textContent = shown;
    const fit = {
      text: clock.textContent ?? '',
      clock: { scrollWidth: clock.scrollWidth, clientWidth: clock.clientWidth },
      card: { scrollWidth: card.scrollWidth, clientWidth: card.clientWidth },
      page: { scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth },
    };
    clock.textContent = before;
    return fit;
  }, text);
}

function expectFits(fit: Fit): void {
  expect(fit.clock.scrollWidth, `the clock's text "${fit.text}" is wider than the clock`).toBeLessThanOrEqual(fit.clock.clientWidth);
  expect(fit.card.scrollWidth, `the clock's card overflows with "${fit.text}"`).toBeLessThanOrEqual(fit.card.clientWidth);
  expect(fit.page.scrollWidth, 'the page scrolls sideways').toBeLessThanOrEqual(fit.page.clientWidth);
}

/** The boxes of the first row's two cards and of a full-width card below them. */
function cardBoxes(page: Page): Promise<Record<'clock' | 'metrics' | 'chat', { left: number; right: number; top: number }>> {
  return page.evaluate(() => {
    const box = (id: string) => {
      const rect = document.getElementById(id)!.closest('.card')!.getBoundingClientRect();
      return { left: Math.round(rect.left), right: Math.round(rect.right), top: Math.round(rect.top) };
    };
    return { clock: box('clock'), metrics: box('metrics'), chat: box('messages') };
  });
}

describe('the page at 390, 800 and 1280 px', () => {
  let app: RunningApp;
  let browser: Browser;
  const screenshots = testResultsDir('express');

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  // A fresh app for each width: each page then meets an empty chat.
  beforeEach(async () => {
    app = await startApp('express', { tickMs: NO_TICK_MS });
  });

  afterEach(async () => {
    await app?.stop();
  });

  test.each(WIDTHS)('%i px: real values at once, a clock that fits its card, a first row that uses the width, no stale empty-chat note', async (width) => {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    try {
      const page = await context.newPage();
      await page.goto(app.url);

      // Shown before any tick: the stream sends the time and the metrics as it opens.
      await page.waitForFunction(() => /\d{1,2}:\d{2}:\d{2}/.test(document.getElementById('clock')?.textContent ?? ''), undefined, WAIT);
      expect(await page.$eval('#clock', (node) => (node as HTMLElement).dataset.tick)).toBe('0');
      await page.waitForFunction(() => /^\d+$/.test(document.getElementById('metric-live')?.textContent ?? ''), undefined, WAIT);
      expect(Number(await page.textContent('#metric-live'))).toBeGreaterThanOrEqual(1);
      expect(await page.textContent('#metric-memory')).toMatch(/^\d+(\.\d)? MiB$/);
      expect(await page.textContent('#metric-uptime')).toMatch(/^\d+ s$/);

      // The time it shows, and the widest a 12-hour clock gets.
      expectFits(await measureClock(page));
      expectFits(await measureClock(page, '12:59:59 PM'));

      const boxes = await cardBoxes(page);
      if (width >= 800) {
        // Side by side, and together as wide as the cards below.
        expect(boxes.clock.top).toBe(boxes.metrics.top);
        expect(boxes.clock.left).toBe(boxes.chat.left);
        expect(boxes.metrics.right).toBe(boxes.chat.right);
      } else {
        // Stacked, each the full width.
        expect(boxes.metrics.top).toBeGreaterThan(boxes.clock.top);
        expect([boxes.clock.left, boxes.clock.right]).toEqual([boxes.chat.left, boxes.chat.right]);
        expect([boxes.metrics.left, boxes.metrics.right]).toEqual([boxes.chat.left, boxes.chat.right]);
      }
      await page.screenshot({ path: `${screenshots}layout-${width}.png`, fullPage: true });

      await page.waitForFunction(() => document.getElementById('chat-sync')?.dataset.mode === 'snapshot:first-connection', undefined, WAIT);
      expect(await page.textContent('#chat-sync')).toBe('No messages yet: say something!');
      await page.fill('#chat-text', `hello at ${width} px`);
      await page.click('#chat-form button[type=submit]');
      await waitForChatText(page, `hello at ${width} px`);
      expect(await page.textContent('#chat-sync')).toBe('');
      await page.screenshot({ path: `${screenshots}layout-${width}-chat.png`, fullPage: true });
    } finally {
      await context.close();
    }
  });
});
