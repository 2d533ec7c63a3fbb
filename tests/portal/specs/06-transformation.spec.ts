// A webhook's jq transformation in the portal: the edit form's field and its 422, the "Test
// transformation" panel (a sample payload, its output, its errors), the program on the detail
// page, what the endpoint then receives, the "transformation error" outcome, a read-only session
// (no Run test, no save), and clearing it (null).
import type { Page } from '@playwright/test';
import {
  call,
  createAccount,
  createWebhook,
  openSession,
  publish,
  waitForAttempt,
  type Account,
} from '../lib/api';
import { Receiver } from '../lib/receiver';
import {
  expect,
  expectAccessible,
  expectNoWriteControls,
  go,
  heading,
  reloadUntil,
  screenshot,
  test,
  textOf,
} from '../lib/portal';

test.describe.configure({ mode: 'serial' });

let account: Account;
let receiver: Receiver;
let webhook: any;

/** Does not parse: a 422 with the line and column. */
const BROKEN = '{body: .payload';
/** Parses, but its output (a number) is not `{body, headers}`: a transformation_error. */
const NOT_AN_OBJECT = '.payload.amount';
/** The program saved: a body of our own and an extra header. */
const PROGRAM =
  '{body: {text: "Invoice \\(.payload.invoice) paid", amount: .payload.amount, note: .payload.note}, headers: {"X-Invoice": .payload.invoice}}';
const HOSTILE = '<img src=x onerror="window.__pwned=1">';

const TEST_ROUTE = /\/api\/v3\/notification\/webhooks\/\d+\/transformation\/test$/;

/** The value of a term of the webhook page's summary (`<dt>` then its `<dd>`). */
const summaryValue = (page: Page, term: string) =>
  page.locator('dl dt', { hasText: new RegExp(`^\\s*${term}\\s*$`) }).locator('xpath=following-sibling::dd[1]');

async function savedTransformation(id: string): Promise<string | null> {
  const answer = await call('GET', `/api/v3/notification/webhooks/${id}`, { account: account.uid });
  expect(answer.status).toBe(200);
  return answer.body.data.attributes.transformation ?? null;
}

/** The body part of what #transformation-output shows: extra headers, a blank line, then the body as JSON. */
async function shownBody(page: Page): Promise<unknown> {
  const text = await textOf(page.locator('#transformation-output'));
  return JSON.parse(text.split('\n\n').pop()!);
}

test.beforeAll(async () => {
  account = await createAccount('Transform Co');
  receiver = await Receiver.start();
  webhook = await createWebhook(account, { url: receiver.url('/tx'), events: ['invoice.paid'], retry_schedule: [] });
});

test.afterAll(async () => {
  await receiver?.stop();
});

test('the edit form checks the program, tests it on a sample payload and saves it', async ({ portal }) => {
  const session = await openSession(account);
  const page = await portal.open(session.token);
  await go(page, `/webhooks/${webhook.id}`);
  await expect(heading(page, webhook.attributes.url)).toBeVisible();
  await expect(summaryValue(page, 'Transformation')).toHaveText('none');

  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await expect(heading(page, 'Edit webhook')).toBeVisible();
  const program = page.getByRole('textbox', { name: 'Transformation (jq)' });
  await expect(program).toHaveValue('');
  await expect(program, 'the hint tells input and output').toHaveAccessibleDescription(/body/);

  // A program that does not parse: the API's 422, under the field and in the alert; nothing saved.
  await program.fill(BROKEN);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.locator('#transformation-error')).toContainText(/line 1\b/i);
  await expect(program).toHaveAttribute('aria-invalid', 'true');
  await expect(program, 'the field tells its error').toHaveAccessibleDescription(/line 1\b/i);
  await expect(page.getByRole('alert')).toContainText(/line 1\b/i);
  await expect(heading(page, 'Edit webhook')).toBeVisible();
  expect(await savedTransformation(webhook.id)).toBeNull();

  // The test panel: the same 422 for the program as it is now.
  const run = page.getByRole('button', { name: 'Run test' });
  const testError = page.locator('#transformation-test-error');
  await run.click();
  await expect(testError).toContainText(/line 1\b/i);
  await expect(testError).toHaveAttribute('role', 'alert');
  await expect(page.locator('#transformation-output')).toHaveCount(0);

  // A program that fails on the event: its error, no output.
  await program.fill(NOT_AN_OBJECT);
  await run.click();
  await expect(testError).toContainText('The program failed');
  await expect(page.locator('#transformation-output')).toHaveCount(0);

  // A sample that is not JSON is caught before any request.
  await program.fill(PROGRAM);
  const sample = page.getByRole('textbox', { name: 'Sample payload (JSON)' });
  await sample.fill('{"invoice": ');
  const sent = () => portal.requests.filter((r) => r.method === 'POST' && TEST_ROUTE.test(r.url.split('?')[0]!)).length;
  const before = sent();
  await run.click();
  await expect(testError).toContainText('not valid JSON');
  await expect(page.locator('#transformation-sample-error')).toContainText('not valid JSON');
  await expect(sample).toHaveAttribute('aria-invalid', 'true');
  expect(sent(), 'no test request for a sample that is not JSON').toBe(before);

  // No sample: the event type's example from the catalog ({"invoice": "inv-1", "amount": 1200}).
  await sample.fill('');
  await run.click();
  const output = page.locator('#transformation-output');
  await expect(output).toContainText('Invoice inv-1 paid');
  await expect(testError).toHaveCount(0);

  // A sample of our own, with markup that must stay text.
  await sample.fill(JSON.stringify({ invoice: 'inv-tx-1', amount: 4200, note: HOSTILE }));
  await run.click();
  await expect(output).toContainText('Invoice inv-tx-1 paid');
  await expect(output).toContainText(/x-invoice: inv-tx-1/i);
  await expect(testError).toHaveCount(0);
  await expect(sample).not.toHaveAttribute('aria-invalid', 'true');
  expect(await shownBody(page), 'the body, pretty-printed JSON').toEqual({ text: 'Invoice inv-tx-1 paid', amount: 4200, note: HOSTILE });
  const input = page.locator('details').filter({ has: page.locator('summary', { hasText: 'Input event' }) });
  await input.locator('summary').click();
  await expect(input, 'the event the program got').toContainText('"invoice.paid"');
  await expect(input).toContainText('inv-tx-1');
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  await expectAccessible(page, 'webhook-edit with a transformation test', test.info());
  await screenshot(page, 'webhook-transformation', test.info());

  // Saved: the detail page shows the program, as text.
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page).toHaveURL(new RegExp(`#/webhooks/${webhook.id}$`));
  await expect(heading(page, webhook.attributes.url)).toBeVisible();
  await expect(page.getByLabel('Transformation', { exact: true })).toHaveText(PROGRAM);
  expect(await savedTransformation(webhook.id)).toBe(PROGRAM);
});

test('a read-only session sees the program but has no "Run test" and no save', async ({ portal }) => {
  const session = await openSession(account, { read_only: true });
  const page = await portal.open(session.token);
  await go(page, `/webhooks/${webhook.id}`);
  await expect(heading(page, webhook.attributes.url)).toBeVisible();
  await expect(page.getByLabel('Transformation', { exact: true })).toHaveText(PROGRAM);
  await expectNoWriteControls(page, 'webhook');
  await expect(page.getByRole('button', { name: 'Run test', exact: true })).toHaveCount(0);

  // Whatever the edit route shows a read-only session, it offers neither the test nor a save.
  await go(page, `/webhooks/${webhook.id}/edit`);
  await expect(heading(page, webhook.attributes.url)).toHaveCount(0);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.getByText('Loading…')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Run test', exact: true })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Save changes', exact: true })).toHaveCount(0);
  await expect(page.getByRole('textbox', { name: 'Transformation (jq)' })).toHaveCount(0);

  // And the API refuses the test to its token.
  const refused = await call('POST', `/api/v3/notification/webhooks/${webhook.id}/transformation/test`, {
    token: session.token,
    body: { data: { type: 'transformation_tests', attributes: { transformation: PROGRAM } } },
  });
  expect(refused.status).toBe(403);
});

test('the endpoint receives what the saved program makes of the event', async () => {
  const before = receiver.requests.length;
  await publish(account, 'invoice.paid', { invoice: 'inv-tx-2', amount: 10 });
  const got = await receiver.next(before, (r) => r.body.includes('inv-tx-2'));
  expect(JSON.parse(got.body)).toEqual({ text: 'Invoice inv-tx-2 paid', amount: 10, note: null });
  expect(got.headers['x-invoice']).toBe('inv-tx-2');
});

test('a delivery whose program fails shows "transformation error" in the attempts', async ({ portal }) => {
  const failing = await createWebhook(account, {
    url: receiver.url('/tx-failing'),
    events: ['invoice.voided'],
    retry_schedule: [],
    transformation: '.payload.invoice', // a string, not {body, headers}
  });
  const messageId = await publish(account, 'invoice.voided', { invoice: 'inv-tx-3' });
  await waitForAttempt(account, messageId, (a) => a.status === 'transformation_error');
  expect(receiver.requests.some((r) => r.body.includes('inv-tx-3')), 'nothing was sent').toBe(false);

  const page = await portal.open((await openSession(account)).token);
  await go(page, `/webhooks/${failing.id}`);
  await expect(heading(page, failing.attributes.url)).toBeVisible();
  await expect(page.getByLabel('Transformation', { exact: true })).toHaveText('.payload.invoice');
  const recent = page.getByRole('table', { name: 'Recent attempts' });
  await reloadUntil(page, () => expect(recent.getByRole('link', { name: messageId })).toBeVisible({ timeout: 2000 }));
  const row = recent.getByRole('row').filter({ has: page.getByRole('link', { name: messageId }) });
  await expect(row).toContainText('transformation error');
});

test('clearing the field removes the program (null)', async ({ portal }) => {
  const page = await portal.open((await openSession(account)).token);
  await go(page, `/webhooks/${webhook.id}/edit`);
  await expect(heading(page, 'Edit webhook')).toBeVisible();
  const program = page.getByRole('textbox', { name: 'Transformation (jq)' });
  await expect(program).toHaveValue(PROGRAM);
  await program.fill('');
  const patch = page.waitForRequest((r) => r.method() === 'PATCH' && r.url().endsWith(`/webhooks/${webhook.id}`));
  await page.getByRole('button', { name: 'Save changes' }).click();
  expect((await patch).postDataJSON().data.attributes.transformation, 'an emptied field sends null').toBeNull();
  await expect(page).toHaveURL(new RegExp(`#/webhooks/${webhook.id}$`));
  await expect(summaryValue(page, 'Transformation')).toHaveText('none');
  await expect(page.getByLabel('Transformation', { exact: true })).toHaveCount(0);
  expect(await savedTransformation(webhook.id)).toBeNull();
});
