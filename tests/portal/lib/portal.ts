// The browser's side: contexts on the portal with everything the page does recorded (requests,
// CSP violations, dialogs, uncaught errors), the checks every test ends with (no token in any
// URL), axe and screenshots.
import { test as base, expect, type Browser, type BrowserContext, type Locator, type Page, type TestInfo } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import fs from 'node:fs';
import path from 'node:path';
import { base as origin, portalUrl, tokens } from './api';

// The global setup's session (see state.ts) is one more token that no URL may carry.
if (process.env.PORTAL_E2E_STATE) tokens.add(JSON.parse(process.env.PORTAL_E2E_STATE).expiring.token);

/** A 16×16 PNG served for the branded logo URL (the tests have no network). */
export const LOGO_URL = 'https://logo.portal-e2e.test/acme.png';
const LOGO_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAGElEQVR4nGNgoB74TwQeNWDUgFEDRqgBAMZr/wH6m5EXAAAAAElFTkSuQmCC',
  'base64',
);

export interface Recorded {
  url: string;
  method: string;
  referer?: string;
  frame: string;
}

export interface OpenOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
}

export class Portal {
  readonly requests: Recorded[] = [];
  readonly violations: string[] = [];
  readonly dialogs: string[] = [];
  readonly errors: string[] = [];
  readonly consoleErrors: string[] = [];
  private contexts: BrowserContext[] = [];

  constructor(private browser: Browser) {}

  /** A new context (its own sessionStorage) and page, watched; not yet navigated. */
  async page(options: OpenOptions = {}): Promise<Page> {
    const context = await this.browser.newContext({
      viewport: options.viewport ?? { width: 1280, height: 800 },
      colorScheme: options.colorScheme ?? 'light',
      bypassCSP: false,
    });
    this.contexts.push(context);
    await context.route(LOGO_URL, (route) => route.fulfill({ status: 200, contentType: 'image/png', body: LOGO_PNG }));
    context.on('request', (request) => {
      const headers = request.headers();
      this.requests.push({
        url: request.url(),
        method: request.method(),
        referer: headers['referer'],
        frame: request.frame()?.url() ?? '',
      });
    });
    context.on('dialog', (dialog) => {
      this.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      dialog.dismiss().catch(() => undefined);
    });
    context.on('weberror', (error) => this.errors.push(String(error.error())));
    context.on('console', (message) => {
      if (message.type() === 'error') this.consoleErrors.push(message.text());
    });
    // Every CSP violation the documents report (the init script is the browser's, not the app's,
    // and runs whatever the policy says).
    await context.exposeBinding('__e2eCspViolation', (_source, text: string) => {
      this.violations.push(text);
    });
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        (window as any).__e2eCspViolation(
          `${event.violatedDirective} blocked ${event.blockedURI || '(inline)'} at ${event.sourceFile}:${event.lineNumber}`,
        );
      });
    });
    return context.newPage();
  }

  /** Opens a session's URL (the token in the fragment) and waits for the app to take it. */
  async open(token: string, options: OpenOptions = {}): Promise<Page> {
    const page = await this.page(options);
    await page.goto(portalUrl(token));
    return page;
  }

  /** Every URL the pages requested (their fragments never leave the browser). */
  leaks(): string[] {
    const found: string[] = [];
    for (const request of this.requests) {
      const sent = request.url.split('#')[0];
      const referer = (request.referer ?? '').split('#')[0];
      for (const token of tokens) {
        if (sent.includes(token)) found.push(`${request.method} ${request.url}`);
        else if (referer.includes(token)) found.push(`${request.method} ${request.url} (Referer: ${request.referer})`);
      }
    }
    return found;
  }

  /** The checks every test ends with. */
  expectClean(): void {
    expect(this.leaks(), 'no request may carry a session token in its URL or Referer').toEqual([]);
    expect(this.dialogs, 'no dialog (alert/confirm/prompt) may open').toEqual([]);
    expect(this.violations, 'no Content-Security-Policy violation (securitypolicyviolation events)').toEqual([]);
    // The console's own CSP reports; a refused frame-ancestors is the browser doing its job
    // (the embedding test provokes it on purpose).
    const csp = this.consoleErrors.filter((m) => /Content Security Policy/i.test(m) && !/frame-ancestors/.test(m));
    expect(csp, 'no Content-Security-Policy violation reported in the console').toEqual([]);
    expect(this.errors, 'no uncaught error in the page').toEqual([]);
  }

  async close(): Promise<void> {
    for (const context of this.contexts.splice(0)) await context.close().catch(() => undefined);
  }
}

export const test = base.extend<{ portal: Portal }>({
  portal: async ({ browser }, use) => {
    const portal = new Portal(browser);
    await use(portal);
    await portal.close();
    portal.expectClean();
  },
});
export { expect };

/** The app's heading once it is loaded. */
export const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });

/** Where screenshots go: $PORTAL_SCREENSHOTS (portal-e2e.sh sets it), else target/portal-e2e. */
export function screenshotDir(): string {
  const dir = process.env.PORTAL_SCREENSHOTS ?? path.resolve(__dirname, '../../../target/portal-e2e');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export async function screenshot(page: Page, name: string, testInfo?: TestInfo): Promise<void> {
  const file = path.join(screenshotDir(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  await testInfo?.attach(name, { path: file, contentType: 'image/png' });
}

/** axe on the page as it is: fails on any serious or critical violation, listing all of them. */
export async function expectAccessible(page: Page, what: string, testInfo?: TestInfo): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const describe = (list: typeof results.violations) =>
    list
      .map(
        (v) =>
          `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
          v.nodes.map((n) => `    ${n.target.join(' ')}\n      ${(n.failureSummary ?? '').replace(/\n/g, '\n      ')}`).join('\n'),
      )
      .join('\n');
  if (testInfo && results.violations.length) {
    await testInfo.attach(`axe ${what}`, { body: describe(results.violations), contentType: 'text/plain' });
  }
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (serious.length || (process.env.PORTAL_AXE_VERBOSE && results.violations.length)) {
    console.log(`axe on ${what}: every violation\n${describe(results.violations)}`);
  }
  // Soft: every page of a test is checked; the test fails at its end if any failed.
  expect.soft(serious.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    `axe on ${what}: serious or critical violations:\n${describe(serious)}`).toEqual([]);
}


export { origin };

/** Goes to a route of the app (the session stays in sessionStorage). */
export async function go(page: Page, route: string): Promise<void> {
  await page.goto(`${origin()}/portal/#${route}`);
}

/**
 * Reloads the page until `check` passes (each try short), within `ms`: for what the log
 * shows only after the delivery worker wrote it.
 */
export async function reloadUntil(page: Page, check: () => Promise<void>, ms = 30_000): Promise<void> {
  let first = true;
  await expect(async () => {
    if (!first) await page.reload();
    first = false;
    await check();
  }).toPass({ timeout: ms, intervals: [500, 1000, 1000, 2000] });
}

/** The text an element shows (its value for a form control). */
export async function textOf(locator: Locator): Promise<string> {
  return locator.evaluate((el) =>
    el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ? el.value : (el.textContent ?? ''),
  );
}

/** The controls a read-only session must not render (contract). */
export const WRITE_CONTROLS = [
  'New webhook',
  'Edit',
  'Delete',
  'Disable',
  'Enable',
  'Rotate secret',
  'Send test',
  'Retry',
  'Retry all failed',
  'Recover',
];

/** None of the write controls, as a button or a link, exists on the page. */
export async function expectNoWriteControls(page: Page, where: string): Promise<void> {
  for (const name of WRITE_CONTROLS) {
    await expect.soft(page.getByRole('button', { name, exact: true }), `${where}: button "${name}"`).toHaveCount(0);
    await expect.soft(page.getByRole('link', { name, exact: true }), `${where}: link "${name}"`).toHaveCount(0);
  }
}

/** The relative luminance (0 black … 1 white) of the page's background as painted. */
export async function backgroundLuminance(page: Page): Promise<number> {
  return page.evaluate(() => {
    const parse = (color: string): number[] | null => {
      const m = color.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      if (parts.length === 4 && parts[3] === 0) return null;
      return parts.slice(0, 3);
    };
    let rgb: number[] | null = null;
    for (const el of [document.querySelector('main'), document.body, document.documentElement]) {
      if (!el) continue;
      rgb = parse(getComputedStyle(el).backgroundColor);
      if (rgb) break;
    }
    if (!rgb) rgb = [255, 255, 255];
    const [r, g, b] = rgb.map((c) => {
      const v = c / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  });
}

/** Presses Tab until `target` has the focus (at most `max` times); fails otherwise. */
export async function tabTo(page: Page, target: Locator, max = 60, key = 'Tab'): Promise<void> {
  const handle = await target.elementHandle();
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((el) => document.activeElement === el, handle)) return;
    await page.keyboard.press(key);
  }
  throw new Error(`${String(target)} never got the focus after ${max} presses of ${key}`);
}

/** Whether the focused element shows its focus (an outline or a box shadow). */
export async function focusIsVisible(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return false;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    return outline || style.boxShadow !== 'none';
  });
}
