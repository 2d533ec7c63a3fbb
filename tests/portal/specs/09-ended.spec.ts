// The ended page: a revoked session (at the next call), and the session the global setup opened
// first with the shortest life, once its expires_at has passed. This file runs last.
import { call, createAccount, openSession, portalUrl, revokeSession, eventually } from '../lib/api';
import { state } from '../lib/state';
import { expect, expectAccessible, heading, screenshot, test } from '../lib/portal';

const ENDED = 'This session has ended';

test('a revoked session shows the ended page at its next call', async ({ portal }) => {
  const account = await createAccount('Revoked Corp');
  const session = await openSession(account);
  const page = await portal.open(session.token);
  await expect(heading(page, 'Webhooks')).toBeVisible();
  // The page's own reads are done (a read after the revocation would end it before the click).
  await expect(page.getByText('No webhooks yet')).toBeVisible();

  await revokeSession(account, session);
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Messages' }).click();
  await expect(heading(page, ENDED)).toBeVisible();
  await expect(page.getByRole('navigation')).toHaveCount(0);
  await expect(page.getByRole('main')).toContainText(/again/i);
  await screenshot(page, 'ended', test.info());
  await expectAccessible(page, 'ended (light)', test.info());

  // And so it stays on reload.
  await page.reload();
  await expect(heading(page, ENDED)).toBeVisible();
});

test('the ended page is accessible in dark', async ({ portal }) => {
  const page = await portal.page({ colorScheme: 'dark' });
  await page.goto(portalUrl('hlps_not-a-real-session-token'));
  await expect(heading(page, ENDED)).toBeVisible();
  expect(page.url()).not.toContain('hlps_not-a-real-session-token');
  await expectAccessible(page, 'ended (dark)', test.info());
});

test('an expired session shows the ended page', async ({ portal }) => {
  const { expiring } = state();
  const expiresAt = Date.parse(expiring.expires_at);
  expect(expiresAt - Date.now(), 'the session was opened for 60 s').toBeLessThanOrEqual(61_000);
  test.setTimeout(Math.max(0, expiresAt - Date.now()) + 60_000);
  // Until its expires_at has passed and the API says so (no blind sleep).
  await eventually('the session to expire', Math.max(0, expiresAt - Date.now()) + 20_000, async () => {
    if (Date.now() < expiresAt) return undefined;
    const answer = await call('GET', '/api/v3/notification/webhooks', { token: expiring.token });
    return answer.status === 401 ? true : undefined;
  });

  const page = await portal.open(expiring.token);
  await expect(heading(page, ENDED)).toBeVisible();
  expect(page.url()).not.toContain(expiring.token);
  await expect(page.getByRole('navigation')).toHaveCount(0);
});
