// The main flow of a customer with a read-write, branded session, step by step on one page:
// open the session, create a webhook through the form, test it, see its deliveries, a failure,
// a manual retry, a secret rotation, the chart, edit (with the order), disable, delete.
import type { Page } from '@playwright/test';
import {
  call,
  createAccount,
  openSession,
  patchWebhook,
  portalUrl,
  publish,
  type Account,
  type Session,
} from '../lib/api';
import { Receiver, signedWith } from '../lib/receiver';
import {
  LOGO_URL,
  Portal,
  backgroundLuminance,
  expect,
  heading,
  origin,
  reloadUntil,
  screenshot,
  test,
  textOf,
} from '../lib/portal';

test.describe.configure({ mode: 'serial' });

let account: Account;
let receiver: Receiver;
let session: Session;
let portal: Portal;
let page: Page;
let hookUrl: string;
let webhookId: string;
let secret: string;
let firstMessage: string;
let failedMessage: string;

const nav = (name: 'Webhooks' | 'Messages') =>
  page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name, exact: true });

const SECRET = /whsec_[A-Za-z0-9+/=]+/;
async function shownSecret(): Promise<string> {
  const element = page.getByLabel('Secret', { exact: true });
  await expect(element).toContainText(SECRET);
  return (await textOf(element)).match(SECRET)![0];
}

test.beforeAll(async ({ browser }) => {
  account = await createAccount('Acme Corp');
  receiver = await Receiver.start();
  hookUrl = receiver.url('/hooks/acme');
  session = await openSession(account, { branding: { color: '#0b5fff', logo_url: LOGO_URL, theme: 'light' } });
  portal = new Portal(browser);
  page = await portal.page();
});

test.afterEach(() => {
  portal.expectClean();
  expect(portal.violations, 'CSP violations').toEqual([]);
  expect(portal.errors, 'uncaught errors in the page').toEqual([]);
});

test.afterAll(async () => {
  await portal?.close();
  await receiver?.stop();
});

test('opening the session URL shows the webhooks, branded, and takes the token out of the address bar', async () => {
  await page.goto(portalUrl(session.token));
  await expect(heading(page, 'Webhooks')).toBeVisible();
  await expect(page).toHaveURL(`${origin()}/portal/#/webhooks`);
  expect(page.url()).not.toContain(session.token);
  expect(await page.evaluate(() => history.length), 'no history entry kept the token').toBeLessThanOrEqual(2);

  const banner = page.getByRole('banner');
  await expect(banner).toContainText('Acme Corp');
  const logo = banner.getByRole('img', { name: 'Acme Corp' });
  await expect(logo).toBeVisible();
  expect(await logo.evaluate((img: HTMLImageElement) => img.naturalWidth), 'the logo loaded').toBeGreaterThan(0);
  await expect(page.getByText('Read-only', { exact: true })).toHaveCount(0);
  await expect(nav('Webhooks')).toBeVisible();
  await expect(nav('Messages')).toBeVisible();
  await expect(page.getByRole('main')).toHaveCount(1);
  await expect(page.getByText('No webhooks yet')).toBeVisible();
  expect(await backgroundLuminance(page), 'theme "light" is light').toBeGreaterThan(0.5);
});

test('a webhook is created through the form', async () => {
  await page.getByRole('link', { name: 'New webhook' }).click();
  await expect(heading(page, 'New webhook')).toBeVisible();
  await expect(page).toHaveURL(/#\/webhooks\/new$/);

  const types = page.getByRole('group', { name: 'Event types' });
  // The catalog, grouped, each type with its description, schema and example.
  for (const name of ['invoice.paid', 'invoice.voided', 'customer.created']) {
    await expect(types.getByRole('checkbox', { name, exact: true })).toBeVisible();
  }
  await expect(types).toContainText('billing');
  await expect(types).toContainText('customers');
  await expect(types).toContainText('An invoice was paid');
  const paid = types.getByRole('checkbox', { name: 'invoice.paid', exact: true });
  const item = types
    .locator('li, div, label, fieldset')
    .filter({ has: page.getByRole('checkbox', { name: 'invoice.paid', exact: true }) })
    .filter({ has: page.locator('details') })
    .last();
  const disclosure = item.locator('details').filter({ hasText: 'Schema and example' }).first();
  await disclosure.locator('summary').click();
  await expect(disclosure).toContainText('"amount"');
  await expect(disclosure).toContainText('inv-1');

  await page.getByRole('textbox', { name: 'URL', exact: true }).fill(hookUrl);
  await page.getByRole('textbox', { name: 'Description', exact: true }).fill('Acme billing receiver');
  await paid.check();
  await expect(page.getByRole('textbox', { name: 'Payload filter' })).toBeVisible();
  await page.getByRole('button', { name: 'Add header' }).click();
  await page.getByRole('textbox', { name: 'Header name' }).last().fill('X-Acme-Tenant');
  await page.getByRole('textbox', { name: 'Header value' }).last().fill('acme-e2e');
  await expect(page.getByRole('combobox', { name: 'Signature algorithm' })).toBeVisible();
  await expect(page.getByRole('textbox', { name: 'Retry schedule' })).toBeVisible();
  await screenshot(page, 'webhook-new', test.info());
  const rate = page.getByRole('textbox', { name: 'Rate limit' });
  await rate.fill('0');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await expect(page.locator('#rate_limit-error')).toContainText('from 1 to 1000');
  await expect(rate).toHaveAttribute('aria-invalid', 'true');
  await rate.fill('50');

  await page.getByRole('button', { name: 'Create webhook' }).click();
  await expect(page).toHaveURL(/#\/webhooks\/\d+$/);
  webhookId = page.url().match(/#\/webhooks\/(\d+)$/)![1];
  await expect(heading(page, hookUrl)).toBeVisible();
  await expect(page.getByRole('main')).toContainText('enabled');
  await expect(page.getByRole('main')).toContainText('50 deliveries a second');

  // And it is listed.
  await nav('Webhooks').click();
  const table = page.getByRole('table', { name: 'Webhooks' });
  const row = table.getByRole('row').filter({ has: page.getByRole('link', { name: hookUrl }) });
  await expect(row).toBeVisible();
  await expect(row).toContainText('enabled');
  await expect(row).toContainText('production');
  await expect(page.getByText('No webhooks yet')).toHaveCount(0);
  await expect(row).not.toContainText(/loading/i); // its figures are in
  await screenshot(page, 'webhooks', test.info());
  await row.getByRole('link', { name: hookUrl }).click();
  await expect(heading(page, hookUrl)).toBeVisible();
});

test('"Send test" shows 200 and the receiver gets a request signed with the revealed secret', async () => {
  const before = receiver.requests.length;
  await page.getByRole('button', { name: 'Send test' }).click();
  await expect(page.getByRole('region', { name: 'Test result' })).toContainText('200');
  const got = await receiver.next(before);
  expect(got.headers['webhook-id']).toBeTruthy();
  expect(got.headers['webhook-timestamp']).toMatch(/^\d+$/);
  expect(got.headers['webhook-signature']).toMatch(/^v1,/);
  expect(got.headers['x-acme-tenant'], 'the custom header set in the form').toBe('acme-e2e');

  // What a failing endpoint answered is shown too.
  receiver.status = 500;
  await page.getByRole('button', { name: 'Send test' }).click();
  await expect(page.getByRole('region', { name: 'Test result' })).toContainText('500');
  receiver.status = 200;

  await page.getByRole('button', { name: 'Reveal secret' }).click();
  secret = await shownSecret();
  expect(signedWith(got, secret), 'the signature verifies with the secret the portal shows').toBe(true);
});

test('a published event is listed in Messages; its page shows the payload and a 200 attempt', async () => {
  const payload = { invoice: 'inv-e2e-1', amount: 1200 };
  const before = receiver.requests.length;
  firstMessage = await publish(account, 'invoice.paid', payload);
  await receiver.next(before, (r) => r.body.includes('inv-e2e-1'));

  await nav('Messages').click();
  await expect(heading(page, 'Messages')).toBeVisible();
  const table = page.getByRole('table', { name: 'Messages' });
  await reloadUntil(page, () => expect(table.getByRole('link', { name: firstMessage })).toBeVisible({ timeout: 2000 }));
  const row = table.getByRole('row').filter({ has: page.getByRole('link', { name: firstMessage }) });
  await expect(row).toContainText('invoice.paid');
  await expect(row, 'its created time').toContainText(/\d{1,2}:\d{2}/);
  await screenshot(page, 'messages', test.info());

  await row.getByRole('link', { name: firstMessage }).click();
  await expect(heading(page, `Message ${firstMessage}`)).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`#/messages/${firstMessage}$`));
  await expect(page.getByRole('main')).toContainText('invoice.paid');
  const shown = page.getByLabel('Payload', { exact: true });
  await expect(shown).toContainText('inv-e2e-1');
  const text = await textOf(shown);
  expect(JSON.parse(text), 'the payload, whole').toEqual(payload);
  expect(text, 'pretty-printed').toContain('\n');

  const attempts = page.getByRole('table', { name: `Attempts to webhook ${webhookId}` });
  await reloadUntil(page, () => expect(attempts).toContainText('200', { timeout: 2000 }));
  const section = page.locator('section').filter({ has: page.getByRole('heading', { name: `Webhook ${webhookId}` }) });
  await expect(section).toContainText('succeeded');
  await expect(section.getByRole('button', { name: 'Retry', exact: true })).toHaveCount(0);
});

test('a failed delivery shows its attempt; "Retry" delivers it once the receiver is back', async () => {
  // Setup: no automatic retries, so that the first failure is final (the default schedule
  // would try again by itself 5 s later) and the manual retry is what delivers it.
  await patchWebhook(account, webhookId, { retry_schedule: [] });
  receiver.status = 500;
  const before = receiver.requests.length;
  failedMessage = await publish(account, 'invoice.paid', { invoice: 'inv-e2e-2', amount: 1300 });
  await receiver.next(before, (r) => r.body.includes('inv-e2e-2'));

  await nav('Messages').click();
  const table = page.getByRole('table', { name: 'Messages' });
  await reloadUntil(page, () => expect(table.getByRole('link', { name: failedMessage })).toBeVisible({ timeout: 2000 }));
  await table.getByRole('link', { name: failedMessage }).click();
  await expect(heading(page, `Message ${failedMessage}`)).toBeVisible();

  const attempts = page.getByRole('table', { name: `Attempts to webhook ${webhookId}` });
  const section = page.locator('section').filter({ has: page.getByRole('heading', { name: `Webhook ${webhookId}` }) });
  await reloadUntil(page, async () => {
    await expect(attempts).toContainText('500', { timeout: 2000 });
    await expect(section).toContainText('failed', { timeout: 2000 });
  });
  await expect(page.getByRole('button', { name: 'Retry all failed' })).toBeVisible();
  // The receiver's answer is there to read.
  const response = section.locator('details').filter({ has: page.locator('summary', { hasText: 'Response' }) }).first();
  await response.locator('summary').click();
  await expect(response).toContainText('{"ok":true}');

  receiver.status = 200;
  const retried = receiver.requests.length;
  await section.getByRole('button', { name: 'Retry', exact: true }).click();
  await receiver.next(retried, (r) => r.body.includes('inv-e2e-2'));
  await reloadUntil(page, async () => {
    await expect(section).toContainText('succeeded', { timeout: 2000 });
    await expect(attempts.getByRole('row')).toHaveCount(3, { timeout: 2000 }); // header + 2 attempts
  });
  await expect(attempts).toContainText('200');
  await expect(attempts).toContainText('500');
  await expect(section.getByRole('button', { name: 'Retry', exact: true })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Retry all failed' })).toHaveCount(0);
  await screenshot(page, 'message', test.info());
});

test('"Rotate secret" asks first, then shows the new secret and the previous secret\'s overlap', async () => {
  await nav('Webhooks').click();
  await page.getByRole('table', { name: 'Webhooks' }).getByRole('link', { name: hookUrl }).click();
  await expect(heading(page, hookUrl)).toBeVisible();

  // Escape cancels.
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await expect.poll(() => dialog.evaluate((d) => d.contains(document.activeElement)), { message: 'focus moves into the dialog' }).toBe(true);
  expect(
    await dialog.evaluate((d) => (d.tagName === 'DIALOG' ? d.matches(':modal') : d.getAttribute('aria-modal') === 'true')),
    'a modal <dialog>, or role="dialog" with aria-modal',
  ).toBe(true);
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  // Cancel cancels.
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  const unchanged = await call('GET', `/api/v3/notification/webhooks/${webhookId}/secret`, { account: account.uid });
  expect(JSON.stringify(unchanged.body)).toContain(secret);

  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await dialog.getByRole('button', { name: 'Rotate secret' }).click();
  await expect(dialog).toBeHidden();
  const note = page.getByText(/previous secret/i).filter({ visible: true }).first();
  await expect(note).toBeVisible();
  await expect(note, 'the note says until when the previous secret works').toContainText(/\d{1,2}:\d{2}|hour/i);
  const rotated = await shownSecret();
  expect(rotated).not.toBe(secret);

  // Deliveries now carry both signatures.
  const before = receiver.requests.length;
  await page.getByRole('button', { name: 'Send test' }).click();
  await expect(page.getByRole('region', { name: 'Test result' })).toContainText('200');
  const got = await receiver.next(before);
  expect(signedWith(got, rotated), 'signed with the new secret').toBe(true);
  expect(signedWith(got, secret), 'and still with the previous one').toBe(true);
  secret = rotated;
});

test('the chart and "Recent attempts" show the deliveries', async () => {
  await page.reload();
  await expect(heading(page, hookUrl)).toBeVisible();
  const recent = page.getByRole('table', { name: 'Recent attempts' });
  await reloadUntil(page, async () => {
    await expect(recent.getByRole('link', { name: firstMessage })).toBeVisible({ timeout: 2000 });
    await expect(recent.getByRole('link', { name: failedMessage }).first()).toBeVisible({ timeout: 2000 });
  });
  await expect(recent).toContainText('500');
  await expect(recent).toContainText('200');

  const figure = page.getByRole('figure', { name: 'Deliveries by status' });
  await expect(figure).toBeVisible();
  await expect(figure.locator('svg').first()).toBeVisible();
  await expect(figure).toContainText(/succeeded/i);
  const windowSelect = page.getByRole('combobox', { name: 'Window' });
  const shownWindow = await windowSelect.inputValue();
  const stats = await call('GET', `/api/v3/notification/webhooks/${webhookId}/stats?window=${shownWindow}`, { account: account.uid });
  expect(stats.status).toBe(200);
  const succeeded: number = stats.body.data.attributes.deliveries.succeeded;
  expect(succeeded).toBeGreaterThanOrEqual(2);
  await expect(figure, 'the chart tells the number of successes').toContainText(String(succeeded));

  await windowSelect.selectOption('1h');
  await expect(figure).toBeVisible();
  await expect(figure).toContainText(String(succeeded));

  // The message id links to the message.
  await expect(recent.getByRole('link', { name: firstMessage })).toHaveAttribute('href', new RegExp(`#/messages/${firstMessage}$`));
  await screenshot(page, 'webhook', test.info());

  const verify = page.getByRole('heading', { level: 2, name: 'Verifying signatures' });
  await expect(verify).toBeVisible();
  const tabs = page.getByRole('tablist');
  for (const name of ['Node.js', 'Python', 'Go']) {
    await tabs.getByRole('tab', { name }).click();
    await expect(tabs.getByRole('tab', { name })).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByRole('tabpanel')).toContainText(/standard-?webhooks/i);
  }
});

test('"Edit" changes the webhook; "Disable" and "Enable" switch it', async () => {
  await expect(page.getByRole('main')).toContainText('as soon as possible'); // the default order
  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await expect(heading(page, 'Edit webhook')).toBeVisible();
  await expect(page.getByRole('textbox', { name: 'URL', exact: true })).toHaveValue(hookUrl);
  await expect(page.getByRole('checkbox', { name: 'invoice.paid', exact: true })).toBeChecked();
  await page.getByRole('checkbox', { name: 'customer.created', exact: true }).check();
  const order = page.getByRole('combobox', { name: 'Order', exact: true });
  await expect(order).toHaveValue('none');
  await order.selectOption({ label: 'In order, one at a time (fifo)' });
  const changed = page.waitForRequest((r) => r.method() === 'PATCH' && r.url().endsWith(`/webhooks/${webhookId}`));
  await page.getByRole('button', { name: 'Save changes' }).click();
  expect((await changed).postDataJSON().data.attributes.ordering, 'a changed order is sent').toBe('fifo');
  await expect(page).toHaveURL(new RegExp(`#/webhooks/${webhookId}$`));
  await expect(heading(page, hookUrl)).toBeVisible();
  await expect(page.getByRole('main')).toContainText('in order (fifo)');
  const saved = await call('GET', `/api/v3/notification/webhooks/${webhookId}`, { account: account.uid });
  expect(saved.status).toBe(200);
  expect(saved.body.data.attributes.ordering).toBe('fifo');

  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await expect(page.getByRole('checkbox', { name: 'customer.created', exact: true })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'invoice.paid', exact: true })).toBeChecked();
  await expect(order).toHaveValue('fifo');
  // Saved again unchanged: the order is not sent, and stays.
  const unchanged = page.waitForRequest((r) => r.method() === 'PATCH' && r.url().endsWith(`/webhooks/${webhookId}`));
  await page.getByRole('button', { name: 'Save changes' }).click();
  expect((await unchanged).postDataJSON().data.attributes, 'an unchanged order is not sent').not.toHaveProperty('ordering');
  await expect(page).toHaveURL(new RegExp(`#/webhooks/${webhookId}$`));
  await expect(heading(page, hookUrl)).toBeVisible();
  await expect(page.getByRole('main')).toContainText('in order (fifo)');

  await page.getByRole('button', { name: 'Disable', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Enable', exact: true })).toBeVisible();
  await expect(page.getByRole('main')).toContainText('disabled');
  await page.getByRole('button', { name: 'Enable', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Disable', exact: true })).toBeVisible();
  await expect(page.getByRole('main')).toContainText('enabled');
});

test('"Delete" asks first, then the webhook is gone', async () => {
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(heading(page, hookUrl)).toBeVisible();

  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(heading(page, 'Webhooks')).toBeVisible();
  await expect(page.getByText('No webhooks yet')).toBeVisible();
  const gone = await call('GET', `/api/v3/notification/webhooks/${webhookId}`, { account: account.uid });
  expect(gone.status).toBe(404);
});
