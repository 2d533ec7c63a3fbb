// What the portal is served with, and what it does with hostile data: the CSP, the session URL,
// no token anywhere but the fragment, text never turned into markup, embedding.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAccount, createWebhook, openSession, portalUrl, publish, waitForAttempt, base } from '../lib/api';
import { Receiver } from '../lib/receiver';
import { expect, go, heading, origin, test } from '../lib/portal';

/** The directives of a Content-Security-Policy header, by name. */
function directives(header: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of header.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) map.set(name.toLowerCase(), values);
  }
  return map;
}

test('GET /portal/ is the app with a strict Content-Security-Policy', async () => {
  const response = await fetch(`${base()}/portal/`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type') ?? '').toContain('text/html');
  expect(response.headers.get('cache-control') ?? '').toContain('no-cache');
  const header = response.headers.get('content-security-policy');
  expect(header, 'a Content-Security-Policy header').toBeTruthy();
  const csp = directives(header!);
  expect(csp.get('default-src')).toEqual(["'self'"]);
  expect(csp.has('frame-ancestors'), 'a frame-ancestors directive').toBe(true);
  expect(csp.get('frame-ancestors')).toEqual(["'self'"]); // the operator's default
  for (const name of ['script-src', 'style-src']) {
    const values = csp.get(name) ?? csp.get('default-src')!;
    expect(values, `${name} allows no inline code`).not.toContain("'unsafe-inline'");
    expect(values, `${name} allows no eval`).not.toContain("'unsafe-eval'");
  }
  expect(csp.get('object-src')).toEqual(["'none'"]);
  expect(csp.get('base-uri')).toEqual(["'none'"]);

  // The document names its hashed assets under /portal/assets/, served immutable.
  const html = await response.text();
  const assets = [...html.matchAll(/(?:src|href)="(\/portal\/assets\/[^"]+)"/g)].map((m) => m[1]);
  expect(assets.length, 'index.html loads assets from /portal/assets/').toBeGreaterThan(0);
  expect(html, 'no inline script').not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/);
  expect(html, 'no style attribute').not.toMatch(/\sstyle="/);
  for (const asset of assets) {
    const got = await fetch(`${base()}${asset}`, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(got.status, asset).toBe(200);
    expect(got.headers.get('cache-control') ?? '', asset).toContain('immutable');
  }
});

test('the session URL the platform gets is <origin>/portal/#token=…', async () => {
  const account = await createAccount('Url Check Inc');
  const session = await openSession(account);
  expect(session.token).toMatch(/^hlps_/);
  expect(session.url).toBe(portalUrl(session.token));
});

test('without a token the portal shows the ended page', async ({ portal }) => {
  const page = await portal.page();
  await page.goto(`${origin()}/portal/`);
  await expect(heading(page, 'This session has ended')).toBeVisible();
  await expect(page.getByRole('navigation')).toHaveCount(0);
});

test.describe('hostile data is shown as text', () => {
  let receiver: Receiver;
  test.beforeAll(async () => {
    receiver = await Receiver.start();
  });
  test.afterAll(async () => {
    await receiver.stop();
  });

  test('a payload and a response body with markup neither run nor render', async ({ portal }) => {
    const account = await createAccount('Hostile <b>Corp</b>');
    receiver.status = 500;
    receiver.contentType = 'text/html';
    receiver.body = '<script>window.__pwned=2</script><img src=x onerror="window.__pwned=2"><h1>Injected</h1>';
    const webhook = await createWebhook(account, {
      url: receiver.url('/hostile'),
      events: ['invoice.paid'],
      name: '<img src=x onerror="window.__pwned=3">',
      retry_schedule: [],
    });
    const payload = {
      invoice: '<script>window.__pwned=1</script>',
      amount: 1,
      note: '<img src=x onerror="window.__pwned=1">',
    };
    const messageId = await publish(account, 'invoice.paid', payload);
    await waitForAttempt(account, messageId, (a) => a.status_code === 500);

    const session = await openSession(account);
    const page = await portal.open(session.token);
    await expect(heading(page, 'Webhooks')).toBeVisible();
    await expect(page.getByRole('banner')).toContainText('Hostile <b>Corp</b>');
    await expect(page.getByRole('table', { name: 'Webhooks' }).getByRole('link', { name: receiver.url('/hostile') })).toBeVisible();

    await go(page, `/messages/${messageId}`);
    await expect(heading(page, `Message ${messageId}`)).toBeVisible();
    const shown = page.getByLabel('Payload', { exact: true });
    await expect(shown).toContainText('<script>window.__pwned=1</script>');
    await expect(shown).toContainText('<img src=x onerror=');
    // The receiver's answer, in the attempt's Response disclosure.
    const attempts = page.getByRole('table', { name: `Attempts to webhook ${webhook.id}` });
    await expect(attempts).toContainText('500');
    const response = page.locator('details').filter({ has: page.locator('summary', { hasText: /^\s*Response\s*$/ }) }).first();
    await response.locator('summary').click();
    await expect(response).toContainText('<script>window.__pwned=2</script>');
    await expect(response).toContainText('<h1>Injected</h1>');

    await go(page, `/webhooks/${webhook.id}`);
    await expect(heading(page, receiver.url('/hostile'))).toBeVisible();

    // Nothing ran, nothing was made an element, the policy was never violated by the app.
    expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
    await expect(page.locator('img[src="x"]')).toHaveCount(0);
    await expect(page.getByRole('heading', { name: 'Injected' })).toHaveCount(0);
    expect(portal.violations, 'CSP violations').toEqual([]);
    expect(portal.errors, 'uncaught errors').toEqual([]);
  });
});

test.describe('embedding', () => {
  test('the portal works in an iframe of a page of its own origin', async ({ portal }) => {
    const account = await createAccount('Framed LLC');
    const session = await openSession(account);
    const page = await portal.page();
    // A host page on the API's origin, answered by the browser itself (no route is added to
    // the server): frame-ancestors 'self' lets it frame the portal.
    await page.route(`${origin()}/e2e-host.html`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><html lang="en"><title>Host</title><h1>Platform app</h1>
<iframe title="Customer portal" src="${portalUrl(session.token)}" width="900" height="700"></iframe>`,
      }),
    );
    await page.goto(`${origin()}/e2e-host.html`);
    const frame = page.frameLocator('iframe[title="Customer portal"]');
    await expect(frame.getByRole('heading', { level: 1, name: 'Webhooks' })).toBeVisible();
    await expect(frame.getByText('No webhooks yet')).toBeVisible();
    await frame.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Messages' }).click();
    await expect(frame.getByRole('heading', { level: 1, name: 'Messages' })).toBeVisible();
    expect(portal.violations, 'CSP violations').toEqual([]);
  });

  test('a page of another origin may not frame it', async ({ portal }) => {
    const account = await createAccount('Elsewhere SA');
    const session = await openSession(account);
    // A real host page on another port of 127.0.0.1: another origin in the same (loopback)
    // address space, so only the portal's frame-ancestors decides.
    const host = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<!doctype html><html lang="en"><title>Host</title><h1>Elsewhere</h1>
<iframe title="Customer portal" src="${portalUrl(session.token)}" width="900" height="700"></iframe>`);
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    try {
      const page = await portal.page();
      const framed = page.waitForResponse((r) => r.url().startsWith(`${origin()}/portal/`));
      await page.goto(`http://127.0.0.1:${(host.address() as AddressInfo).port}/`);
      const answer = await framed;
      expect(answer.headers()['content-security-policy'] ?? '').toContain("frame-ancestors 'self'");
      // The browser refuses to render it: the frame holds Chromium's error page, never the app.
      await expect
        .poll(() => page.frames().map((f) => f.url()), { message: 'the frame is refused' })
        .toContain('chrome-error://chromewebdata/');
      const frame = page.frameLocator('iframe[title="Customer portal"]');
      await expect(frame.getByRole('heading', { name: 'Webhooks' })).toHaveCount(0);
    } finally {
      host.closeAllConnections();
      await new Promise((resolve) => host.close(resolve));
    }
  });
});
