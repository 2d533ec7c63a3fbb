// A read-only session: every page reads, none renders a write control, the API refuses writes.
import { call, createAccount, createWebhook, openSession, publish, waitForAttempt, type Account, type Session } from '../lib/api';
import { Receiver } from '../lib/receiver';
import { expect, expectNoWriteControls, go, heading, test, textOf } from '../lib/portal';

let account: Account;
let receiver: Receiver;
let session: Session;
let webhook: any;
let messageId: string;

test.beforeAll(async () => {
  account = await createAccount('Readonly Ltd');
  receiver = await Receiver.start();
  receiver.status = 500; // a failed delivery: what would offer "Retry" to a writer
  webhook = await createWebhook(account, { url: receiver.url('/ro'), events: ['invoice.paid'], retry_schedule: [] });
  messageId = await publish(account, 'invoice.paid', { invoice: 'inv-ro-1', amount: 5 });
  await waitForAttempt(account, messageId, (a) => a.status_code === 500);
  session = await openSession(account, { read_only: true });
});

test.afterAll(async () => {
  await receiver?.stop();
});

test('the pages of a read-only session render no write control', async ({ portal }) => {
  const page = await portal.open(session.token);
  await expect(heading(page, 'Webhooks')).toBeVisible();
  await expect(page.getByText('Read-only', { exact: true })).toBeVisible();
  const link = page.getByRole('table', { name: 'Webhooks' }).getByRole('link', { name: webhook.attributes.url });
  await expect(link).toBeVisible();
  await expectNoWriteControls(page, 'webhooks');

  await link.click();
  await expect(heading(page, webhook.attributes.url)).toBeVisible();
  await expect(page.getByRole('table', { name: 'Recent attempts' })).toBeVisible();
  await expectNoWriteControls(page, 'webhook');
  // Reading stays: the secret.
  await page.getByRole('button', { name: 'Reveal secret' }).click();
  expect(await textOf(page.getByLabel('Secret', { exact: true }))).toContain(webhook.attributes.secret);

  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Messages' }).click();
  await expect(heading(page, 'Messages')).toBeVisible();
  const message = page.getByRole('table', { name: 'Messages' }).getByRole('link', { name: messageId });
  await expect(message).toBeVisible();
  await expectNoWriteControls(page, 'messages');

  await message.click();
  await expect(heading(page, `Message ${messageId}`)).toBeVisible();
  const section = page.locator('section').filter({ has: page.getByRole('heading', { name: `Webhook ${webhook.id}` }) });
  await expect(section).toContainText('failed');
  await expect(page.getByRole('table', { name: `Attempts to webhook ${webhook.id}` })).toContainText('500');
  await expectNoWriteControls(page, 'message');

  // The contract does not say what the form's routes show a read-only session; whatever they
  // show, a write from there must not pass silently: the API's 403 is shown in the alert.
  await go(page, '/webhooks/new');
  const create = page.getByRole('button', { name: 'Create webhook' });
  if (await create.count()) {
    await page.getByRole('textbox', { name: 'URL', exact: true }).fill(receiver.url('/ro-new'));
    await page.getByRole('checkbox', { name: 'invoice.paid', exact: true }).check();
    await create.click();
    await expect(page.getByRole('alert')).toContainText(/read-only|forbidden/i);
  }
  const list = await call('GET', '/api/v3/notification/webhooks', { account: account.uid });
  expect(list.body.data.map((w: any) => w.attributes.url)).toEqual([webhook.attributes.url]);
});

test('a write with a read-only token is refused with 403', async () => {
  const token = session.token;
  const read = await call('GET', '/api/v3/notification/webhooks', { token });
  expect(read.status).toBe(200);
  const writes = [
    await call('POST', '/api/v3/notification/webhooks', {
      token,
      body: { data: { type: 'webhooks', attributes: { url: receiver.url('/nope'), events: ['invoice.paid'] } } },
    }),
    await call('PATCH', `/api/v3/notification/webhooks/${webhook.id}`, {
      token,
      body: { data: { type: 'webhooks', id: String(webhook.id), attributes: { status: 'disabled' } } },
    }),
    await call('POST', `/api/v3/notification/webhooks/test/${webhook.id}`, { token }),
    await call('POST', `/api/v3/notification/messages/${messageId}/retry`, { token, body: {} }),
    await call('DELETE', `/api/v3/notification/webhooks/${webhook.id}`, { token }),
  ];
  expect(writes.map((w) => w.status)).toEqual([403, 403, 403, 403, 403]);
  expect(writes[0].body.errors[0].status).toBe('403');
});
