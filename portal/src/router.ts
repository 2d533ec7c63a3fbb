// Hash routes: parsing `#/…` into a Route, following hash changes, and building links.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'webhooks'; query: string }
  | { page: 'webhook-new' }
  | { page: 'webhook'; id: string }
  | { page: 'webhook-edit'; id: string }
  | { page: 'messages'; query: string }
  | { page: 'message'; id: string }
  | { page: 'not-found' };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [section, id, action] = parts;
  if (!section) return { page: 'webhooks', query };
  if (section === 'webhooks') {
    if (!id) return { page: 'webhooks', query };
    if (id === 'new' && !action) return { page: 'webhook-new' };
    if (!action) return { page: 'webhook', id };
    if (action === 'edit' && parts.length === 3) return { page: 'webhook-edit', id };
  }
  if (section === 'messages') {
    if (!id) return { page: 'messages', query };
    if (!action) return { page: 'message', id };
  }
  return { page: 'not-found' };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

/** The href of an app path such as `/webhooks/3`. */
export const href = (path: string) => `#${path}`;

export function navigate(path: string): void {
  window.location.hash = path;
}

export const paths = {
  webhooks: '/webhooks',
  newWebhook: '/webhooks/new',
  webhook: (id: string | number) => `/webhooks/${encodeURIComponent(String(id))}`,
  editWebhook: (id: string | number) => `/webhooks/${encodeURIComponent(String(id))}/edit`,
  messages: '/messages',
  message: (id: string) => `/messages/${encodeURIComponent(id)}`,
};
