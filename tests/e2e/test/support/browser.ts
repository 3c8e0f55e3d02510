import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (never a downloaded build); `CHROMIUM_PATH` points elsewhere. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Generous: the machine has 2 cores and other suites may run at the same time. */
export const WAIT = { timeout: 20_000 } as const;

/** The chat texts the page shows, in order, among those starting with `prefix`. */
export function chatTexts(page: Page, prefix: string): Promise<string[]> {
  return page.evaluate(
    (start) =>
      [...document.querySelectorAll('#messages li .text')].map((node) => node.textContent ?? '').filter((text) => text.startsWith(start)),
    prefix,
  );
}

/** Waits until the page shows `text` in its chat. */
export async function waitForChatText(page: Page, text: string): Promise<void> {
  await page.waitForFunction(
    (wanted) => [...document.querySelectorAll('#messages li .text')].some((node) => node.textContent === wanted),
    text,
    WAIT,
  );
}
