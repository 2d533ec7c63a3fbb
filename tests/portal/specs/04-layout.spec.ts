// How the portal looks and is used: 360 px wide, the keyboard alone, light and dark (the
// user's preference and the platform's theme), axe on every page, form errors.
import type { Page } from '@playwright/test';
import { createAccount, createWebhook, openSession, publish, waitForAttempt, type Account } from '../lib/api';
import { Receiver } from '../lib/receiver';
import {
  LOGO_URL,
  backgroundLuminance,
  expect,
  expectAccessible,
  focusIsVisible,
  go,
  heading,
  screenshot,
  tabTo,
  test,
} from '../lib/portal';

let account: Account;
let receiver: Receiver;
let webhook: any;
let failing: any;
let messageId: string;
const LONG = '/a-rather-long-path/that/keeps/going/and-going/to-test-narrow-screens?with=query&and=more-parameters';

test.beforeAll(async () => {
  account = await createAccount('Globex International Holdings');
  receiver = await Receiver.start();
  webhook = await createWebhook(account, { url: receiver.url('/globex'), events: ['invoice.paid'] });
  failing = await createWebhook(account, { url: receiver.url(LONG), events: ['customer.created'], retry_schedule: [] });
  messageId = await publish(account, 'invoice.paid', { invoice: 'inv-globex-1', amount: 4200 });
  await waitForAttempt(account, messageId, (a) => a.status_code === 200);
  receiver.status = 500;
  const failed = await publish(account, 'customer.created', { customer: 'cus-globex-9' });
  await waitForAttempt(account, failed, (a) => a.status_code === 500);
  receiver.status = 200;
});

test.afterAll(async () => {
  await receiver?.stop();
});

/** Each page of the app, reached by its route and ready. */
const PAGES: { name: string; route: () => string; ready: (page: Page) => Promise<void> }[] = [
  {
    name: 'webhooks',
    route: () => '/webhooks',
    ready: async (page) => {
      await expect(heading(page, 'Webhooks')).toBeVisible();
      const table = page.getByRole('table', { name: 'Webhooks' });
      const row = (url: string) => table.getByRole('row').filter({ has: page.getByRole('link', { name: url, exact: true }) });
      // The 24 h figures of each: one success of one, one failure of one (with its time).
      await expect(row(webhook.attributes.url)).toContainText(/100(\.0)?\s*%/);
      await expect(row(failing.attributes.url)).toContainText(/(^|\D)0(\.0)?\s*%/);
      await expect(row(failing.attributes.url)).toContainText(/\d{1,2}:\d{2}/);
    },
  },
  {
    name: 'webhook-new',
    route: () => '/webhooks/new',
    ready: async (page) => {
      await expect(heading(page, 'New webhook')).toBeVisible();
      await expect(page.getByRole('checkbox', { name: 'invoice.paid', exact: true })).toBeVisible();
    },
  },
  {
    name: 'webhook',
    route: () => `/webhooks/${webhook.id}`,
    ready: async (page) => {
      await expect(heading(page, webhook.attributes.url)).toBeVisible();
      await expect(page.getByRole('table', { name: 'Recent attempts' }).getByRole('link', { name: messageId })).toBeVisible();
      await expect(page.getByRole('figure', { name: 'Deliveries by status' })).toBeVisible();
    },
  },
  {
    name: 'messages',
    route: () => '/messages',
    ready: async (page) => {
      await expect(heading(page, 'Messages')).toBeVisible();
      await expect(page.getByRole('table', { name: 'Messages' }).getByRole('link', { name: messageId })).toBeVisible();
    },
  },
  {
    name: 'message',
    route: () => `/messages/${messageId}`,
    ready: async (page) => {
      await expect(heading(page, `Message ${messageId}`)).toBeVisible();
      await expect(page.getByRole('table', { name: `Attempts to webhook ${webhook.id}` })).toContainText('200');
    },
  },
];

for (const scheme of ['light', 'dark'] as const) {
  test(`axe finds no serious violation on any page (${scheme}, the user's preference)`, async ({ portal }) => {
    const session = await openSession(account);
    const page = await portal.open(session.token, { colorScheme: scheme });
    await expect(heading(page, 'Webhooks')).toBeVisible();
    const luminance = await backgroundLuminance(page);
    if (scheme === 'dark') expect(luminance, 'a dark preference gives a dark page').toBeLessThan(0.2);
    else expect(luminance, 'a light preference gives a light page').toBeGreaterThan(0.5);
    for (const each of PAGES) {
      await test.step(each.name, async () => {
        await go(page, each.route());
        await each.ready(page);
        await expectAccessible(page, `${each.name} (${scheme})`, test.info());
      });
    }
    if (scheme === 'dark') {
      await go(page, '/webhooks');
      await PAGES[0].ready(page);
      await screenshot(page, 'webhooks-dark', test.info());
    }
    expect(portal.violations, 'CSP violations').toEqual([]);
  });
}

test('the platform\'s theme and colour win over the user\'s preference', async ({ portal }) => {
  const dark = await openSession(account, { branding: { color: '#0b5fff', logo_url: LOGO_URL, theme: 'dark' } });
  const page = await portal.open(dark.token, { colorScheme: 'light' });
  await PAGES[0].ready(page);
  expect(await backgroundLuminance(page), 'theme "dark" is dark under a light preference').toBeLessThan(0.2);
  await expect(page.getByRole('banner').getByRole('img', { name: 'Globex International Holdings' })).toBeVisible();
  await expectAccessible(page, 'webhooks (branded dark)', test.info());
  await go(page, `/webhooks/${webhook.id}`);
  await PAGES[2].ready(page);
  await expectAccessible(page, 'webhook (branded dark)', test.info());

  const light = await openSession(account, { branding: { theme: 'light' } });
  const other = await portal.open(light.token, { colorScheme: 'dark' });
  await PAGES[0].ready(other);
  expect(await backgroundLuminance(other), 'theme "light" is light under a dark preference').toBeGreaterThan(0.5);
});

test('the webhooks come 25 to a page: "Next page", then "Previous page"', async ({ portal }) => {
  const many = await createAccount('Initech');
  const urls: string[] = [];
  for (let n = 1; n <= 26; n++) {
    const created = await createWebhook(many, { url: `https://hooks.initech.example/${n}`, events: ['invoice.paid'] });
    urls.push(created.attributes.url);
  }
  const page = await portal.open((await openSession(many)).token);
  const links = page.getByRole('table', { name: 'Webhooks' }).getByRole('link');
  await expect(links).toHaveCount(25);
  await expect(links.first()).toHaveText(urls[0]!);
  await expect(page.getByRole('button', { name: 'Previous page' })).toHaveCount(0);

  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(links).toHaveCount(1);
  await expect(links.first()).toHaveText(urls[25]!);
  await expect(page.getByRole('button', { name: 'Next page' })).toHaveCount(0);

  await page.getByRole('button', { name: 'Previous page' }).click();
  await expect(links).toHaveCount(25);
});

test('at 360 px the pages do not scroll sideways', async ({ portal }) => {
  const session = await openSession(account);
  const page = await portal.open(session.token, { viewport: { width: 360, height: 740 } });
  const width = () => page.evaluate(() => document.documentElement.scrollWidth);
  await PAGES[0].ready(page);
  await expect(page.getByRole('table', { name: 'Webhooks' }).getByRole('link', { name: failing.attributes.url })).toBeVisible();
  expect(await width(), 'webhooks: scrollWidth').toBeLessThanOrEqual(360);
  await screenshot(page, 'webhooks-360', test.info());
  for (const each of PAGES.slice(1)) {
    await go(page, each.route());
    await each.ready(page);
    expect.soft(await width(), `${each.name}: scrollWidth at 360 px`).toBeLessThanOrEqual(360);
  }
});

test('the create form is filled and submitted with the keyboard alone', async ({ portal }) => {
  const other = await createAccount('Keyboard Co');
  const session = await openSession(other);
  const page = await portal.open(session.token);
  await expect(heading(page, 'Webhooks')).toBeVisible();
  const url = receiver.url('/keyboard');

  await tabTo(page, page.getByRole('link', { name: 'New webhook' }));
  expect(await focusIsVisible(page), 'the focused link shows it').toBe(true);
  await page.keyboard.press('Enter');
  await expect(heading(page, 'New webhook')).toBeVisible();

  await tabTo(page, page.getByRole('textbox', { name: 'URL', exact: true }));
  expect(await focusIsVisible(page), 'the focused field shows it').toBe(true);
  await page.keyboard.type(url);
  const box = page.getByRole('checkbox', { name: 'invoice.paid', exact: true });
  await tabTo(page, box);
  expect(await focusIsVisible(page), 'the focused checkbox shows it').toBe(true);
  await page.keyboard.press('Space');
  await expect(box).toBeChecked();
  await tabTo(page, page.getByRole('button', { name: 'Create webhook' }));
  expect(await focusIsVisible(page), 'the focused button shows it').toBe(true);
  await page.keyboard.press('Enter');
  await expect(heading(page, url)).toBeVisible();
  await expect(page).toHaveURL(/#\/webhooks\/\d+$/);
});

test('the tabs of "Verifying signatures" follow the arrow keys', async ({ portal }) => {
  const session = await openSession(account);
  const page = await portal.open(session.token);
  await go(page, `/webhooks/${webhook.id}`);
  await PAGES[2].ready(page);
  const tabs = page.getByRole('tablist');
  await tabs.getByRole('tab', { name: 'Node.js' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(tabs.getByRole('tab', { name: 'Python' })).toHaveAttribute('aria-selected', 'true');
  await expect(tabs.getByRole('tab', { name: 'Python' })).toBeFocused();
});

test('a refused form shows the error next to its field and in the alert', async ({ portal }) => {
  const session = await openSession(account);
  const page = await portal.open(session.token);
  await go(page, '/webhooks/new');
  await expect(heading(page, 'New webhook')).toBeVisible();
  const url = page.getByRole('textbox', { name: 'URL', exact: true });
  // The API refuses it (its event type is in the catalog, its scheme is not http/https).
  await url.fill('ftp://example.com/hook');
  await page.getByRole('checkbox', { name: 'invoice.paid', exact: true }).check();
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByRole('alert')).toContainText(/url|http/i);
  await expect(heading(page, 'New webhook')).toBeVisible();
  await expect(url, 'the field tells its error').toHaveAccessibleDescription(/\S/);
  await expect(url).toHaveValue('ftp://example.com/hook');
  await expectAccessible(page, 'webhook-new with errors', test.info());
});
