// Before any test: the platform's catalog, and first of all the session with the shortest life
// (60 s, the API's minimum), so that the last file can test it once it has expired. What it
// makes reaches the tests' processes through the environment (PORTAL_E2E_STATE).
import { createAccount, ensureEventTypes, openSession } from './api';

export default async function globalSetup(): Promise<void> {
  const account = await createAccount('Expiring Co');
  const expiring = await openSession(account, { expires_in: 60 });
  await ensureEventTypes();
  process.env.PORTAL_E2E_STATE = JSON.stringify({ account, expiring });
}
