// The portal session: the token taken from the URL fragment, where it is kept, and the signal that it has ended.
import { createContext } from 'preact';
import type { SessionAttributes } from './types';

const TOKEN_KEY = 'hookline.portal.token';
let memoryToken: string | null = null;
let ended = false;
const endedListeners = new Set<() => void>();

// sessionStorage can throw in a sandboxed or third-party iframe; the token then lives as long as the page.
function store(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** Moves `#token=…` into storage and replaces the address at once, so the token never stays in history. */
export function captureToken(): boolean {
  const match = /^#token=([^&]+)/.exec(window.location.hash);
  if (!match?.[1]) return false;
  const token = decodeURIComponent(match[1]);
  memoryToken = token;
  try {
    store()?.setItem(TOKEN_KEY, token);
  } catch {
    // Storage full or denied: the in-memory copy serves this page.
  }
  window.history.replaceState(null, '', `${import.meta.env.BASE_URL}#/webhooks`);
  return true;
}

export function getToken(): string | null {
  try {
    return store()?.getItem(TOKEN_KEY) ?? memoryToken;
  } catch {
    return memoryToken;
  }
}

/** Forgets the token and tells the app to show the ended page. */
export function endSession(): void {
  memoryToken = null;
  try {
    store()?.removeItem(TOKEN_KEY);
  } catch {
    // Nothing stored.
  }
  if (ended) return;
  ended = true;
  endedListeners.forEach((listener) => listener());
}

export function onSessionEnded(listener: () => void): () => void {
  endedListeners.add(listener);
  return () => endedListeners.delete(listener);
}

/** The session as GET /api/v3/notification/session describes it; provided by the app once loaded. */
export const SessionContext = createContext<SessionAttributes>(null as unknown as SessionAttributes);
