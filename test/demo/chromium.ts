// Debian's Chromium driven by playwright-core, with a fresh profile per launch, and collection of
// everything the page reports as broken: CSP violations, console errors and uncaught errors.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../browser/harness.js';

/** A browser with its own temporary profile. */
export interface DemoBrowser {
  context: BrowserContext;
  /** Opens `url` in a new tab that reports into {@link PageReport}. */
  open(url: string): Promise<{ page: Page; report: PageReport }>;
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/** What a page reported while the test drove it. */
export interface PageReport {
  /** `securitypolicyviolation` events (directive and blocked URL) and CSP console messages. */
  cspViolations: string[];
  /** Console errors and uncaught exceptions. */
  errors: string[];
}

/** Launches headless Chromium from /usr/bin/chromium with a new user-data-dir. */
export async function launchDemoBrowser(): Promise<DemoBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'qynpqc-demo-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });

  return {
    context,
    async open(url) {
      const report: PageReport = { cspViolations: [], errors: [] };
      const page = await context.newPage();
      await page.exposeFunction('__reportCspViolation', (text: string) =>
        report.cspViolations.push(text),
      );
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (event) => {
          const report = (globalThis as unknown as { __reportCspViolation: (text: string) => void })
            .__reportCspViolation;
          void report(`${event.violatedDirective} blocked ${event.blockedURI || 'inline code'}`);
        });
      });
      page.on('console', (message) => {
        const text = message.text();
        if (/content security policy/i.test(text)) report.cspViolations.push(text);
        else if (message.type() === 'error') report.errors.push(text);
      });
      page.on('pageerror', (error) => report.errors.push(error.message));
      await page.goto(url);
      return { page, report };
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
