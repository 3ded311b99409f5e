import { existsSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { BrowserContext, chromium, Page } from 'playwright-core';

/** Debian's chromium package; CHROMIUM_PATH points elsewhere when it lives somewhere else. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** What a page did that a self-contained, script-free report must never do. */
export interface PageLog {
  /** Console errors (CSP violations included) and uncaught exceptions. */
  readonly errors: string[];
  /** Every URL the page requested. */
  readonly requests: string[];
}

/**
 * Headless Chromium with a fresh profile and no background traffic. A missing browser fails
 * the test with how to install it, never a skip.
 */
export async function withChromium<T>(use: (open: (url: string) => Promise<{ page: Page; log: PageLog }>) => Promise<T>): Promise<T> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing, and this test opens the HTML report in it; install it with apt-get install chromium`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'mlops-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const ctx = context;
    return await use(async (url) => {
      const page = await ctx.newPage();
      const log: PageLog = { errors: [], requests: [] };
      page.on('console', (m) => {
        if (m.type() === 'error') log.errors.push(m.text());
      });
      page.on('pageerror', (e) => log.errors.push(e.message));
      page.on('request', (r) => log.requests.push(r.url()));
      await page.goto(url, { waitUntil: 'load' });
      return { page, log };
    });
  } finally {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
