import { tokens, type Account, type Session } from './api';

export interface State {
  account: Account;
  expiring: Session;
}

/** What the global setup made (see global-setup.ts). */
export function state(): State {
  const text = process.env.PORTAL_E2E_STATE;
  if (!text) throw new Error('PORTAL_E2E_STATE is missing: the global setup did not run');
  const parsed = JSON.parse(text) as State;
  tokens.add(parsed.expiring.token);
  return parsed;
}
