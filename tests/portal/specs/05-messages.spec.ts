// The message log's page: its filters (event type, status, time) and its cursor pages.
import type { Page } from '@playwright/test';
import { createAccount, createWebhook, must, openSession, publish, unique, waitForAttempt, type Account } from '../lib/api';
import { Receiver } from '../lib/receiver';
import { expect, go, heading, test } from '../lib/portal';

let account: Account;
let webhook: any;
let receiver: Receiver;
let failed: string;
let succeeded: string;
const UNMATCHED = 55; // with the two above: more than one page of 50

test.beforeAll(async () => {
  account = await createAccount('Logbook GmbH');
  receiver = await Receiver.start();
  webhook = await createWebhook(account, { url: receiver.url('/log'), events: ['invoice.paid'], retry_schedule: [] });
  receiver.status = 500;
  failed = await publish(account, 'invoice.paid', { invoice: 'inv-log-1', amount: 1 });
  await waitForAttempt(account, failed, (a) => a.status_code === 500);
  receiver.status = 200;
  succeeded = await publish(account, 'invoice.paid', { invoice: 'inv-log-2', amount: 2 });
  await waitForAttempt(account, succeeded, (a) => a.status_code === 200);
  // Messages no webhook matches, logged at once by ingest.
  const events = Array.from({ length: UNMATCHED }, (_, i) => ({
    event_type: 'customer.created',
    payload: { customer: `cus-log-${i}` },
    idempotency_key: unique('log'),
  }));
  await must(202, 'POST', '/api/v3/notification/events/batch', {
    account: account.uid,
    body: { events },
    headers: { 'content-type': 'application/json' },
  });
});

test.afterAll(async () => {
  await receiver?.stop();
});

const table = (page: Page) => page.getByRole('table', { name: 'Messages' });
const ids = (page: Page) => table(page).getByRole('link', { name: /^msg_/ });

/** A `datetime-local` value in the browser's time zone, `minutes` from now. */
const localTime = (page: Page, minutes: number) =>
  page.evaluate((m) => {
    const d = new Date(Date.now() + m * 60_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }, minutes);

test('the messages come in pages: "Next page", then "First page"', async ({ portal }) => {
  const session = await openSession(account);
  const page = await portal.open(session.token);
  await go(page, '/messages');
  await expect(heading(page, 'Messages')).toBeVisible();
  await expect(ids(page).first()).toBeVisible();
  const first = await ids(page).allInnerTexts();
  expect(first.length).toBeLessThan(UNMATCHED + 2);
  await expect(page.getByRole('button', { name: 'First page' })).toHaveCount(0);

  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(page.getByRole('button', { name: 'First page' })).toBeVisible();
  await expect(ids(page).first()).not.toHaveText(first[0]);
  const second = await ids(page).allInnerTexts();
  expect(second.filter((id) => first.includes(id)), 'no message on both pages').toEqual([]);
  expect(new Set([...first, ...second]).size).toBe(UNMATCHED + 2);
  expect([...first, ...second]).toContain(failed);

  await page.getByRole('button', { name: 'First page' }).click();
  await expect(page.getByRole('button', { name: 'First page' })).toHaveCount(0);
  await expect(ids(page).first()).toHaveText(first[0]);
});

test('the filters narrow the list: event type, status, time', async ({ portal }) => {
  const session = await openSession(account);
  const page = await portal.open(session.token);
  await go(page, '/messages');
  await expect(ids(page).first()).toBeVisible();

  const eventType = page.getByRole('combobox', { name: 'Event type' });
  await expect(eventType.getByRole('option', { name: 'All' })).toHaveCount(1);
  await eventType.selectOption('invoice.paid');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(ids(page)).toHaveCount(2);
  await expect(table(page).getByRole('link', { name: failed })).toBeVisible();
  await expect(table(page).getByRole('link', { name: succeeded })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Next page' })).toHaveCount(0);

  const status = page.getByRole('combobox', { name: 'Status' });
  for (const option of ['All', 'pending', 'succeeded', 'failed', 'refused', 'cancelled']) {
    await expect(status.getByRole('option', { name: option, exact: true })).toHaveCount(1);
  }
  await status.selectOption('failed');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(ids(page)).toHaveCount(1);
  await expect(table(page).getByRole('link', { name: failed })).toBeVisible();

  await status.selectOption({ label: 'All' });
  await eventType.selectOption({ label: 'All' });
  await page.getByLabel('From', { exact: true }).fill(await localTime(page, 60));
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(ids(page), 'nothing was accepted after an hour from now').toHaveCount(0);

  await page.getByLabel('From', { exact: true }).fill(await localTime(page, -60));
  await page.getByLabel('To', { exact: true }).fill(await localTime(page, 60));
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(ids(page).first()).toBeVisible();
  await expect(page.getByRole('button', { name: 'Next page' })).toBeVisible();
});

test('"Recover" sends the failed deliveries since a time again', async ({ portal }) => {
  const session = await openSession(account);
  const page = await portal.open(session.token);
  await go(page, `/webhooks/${webhook.id}`);
  await expect(heading(page, webhook.attributes.url)).toBeVisible();
  receiver.status = 200;
  const before = receiver.requests.length;
  await page.getByLabel('Since', { exact: true }).fill(await localTime(page, -60));
  const recover = page.getByRole('button', { name: 'Recover', exact: true });
  await recover.click();
  const card = page.locator('section').filter({ has: page.getByRole('button', { name: 'Recover', exact: true }) }).last();
  await expect(card.getByText(/\b1\b[^.]*deliver/i), 'the answer: one delivery sent again').toBeVisible();
  const got = await receiver.next(before);
  expect(got.body).toContain('inv-log-1');
  await go(page, `/messages/${failed}`);
  const section = page.locator('section').filter({ has: page.getByRole('heading', { name: `Webhook ${webhook.id}` }) });
  await expect(async () => {
    await page.reload();
    await expect(section).toContainText('succeeded', { timeout: 2000 });
  }).toPass({ timeout: 20_000 });
});
