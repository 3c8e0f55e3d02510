// What the rooms tests read of the sample page in Chromium (apps/shared/public/app.js).
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { WAIT } from './browser.js';

/** `element.dataset[key]` of the first element matching `selector`. */
export const dataset = (page: Page, selector: string, key: string): Promise<string | undefined> =>
  page.$eval(selector, (node, name) => (node as HTMLElement).dataset[name], key);

export const waitForDataset = (page: Page, selector: string, key: string, value: string): Promise<unknown> =>
  page.waitForFunction(
    ([sel, name, wanted]) => (document.querySelector(sel) as HTMLElement | null)?.dataset[name!] === wanted,
    [selector, key, value] as const,
    WAIT,
  );

/** Every room message the page shows, as `room|text`, in order. */
export const shown = (page: Page): Promise<string[]> =>
  page.$$eval('#room-messages li', (items) =>
    items.filter((item) => item.querySelector('.text') !== null).map((item) => `${(item as HTMLElement).dataset.room}|${item.querySelector('.text')?.textContent}`),
  );

export const waitForShown = (page: Page, entry: string): Promise<unknown> =>
  page.waitForFunction(
    (wanted) =>
      [...document.querySelectorAll('#room-messages li')].some(
        (item) => `${(item as HTMLElement).dataset.room}|${item.querySelector('.text')?.textContent}` === wanted,
      ),
    entry,
    WAIT,
  );

/** Joins a room with the page's form and waits until its one stream is live with `expected` rooms. */
export async function joinRoom(page: Page, room: string, expected: string[]): Promise<void> {
  const joins = Number(await dataset(page, '#rooms-state', 'joins'));
  await page.fill('#room-name', room);
  await page.click('#rooms-join button[type=submit]');
  await waitForDataset(page, '#rooms-state', 'rooms', expected.join(','));
  expect(Number(await dataset(page, '#rooms-state', 'joins'))).toBeGreaterThan(joins);
}
