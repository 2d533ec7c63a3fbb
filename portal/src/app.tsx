// The app shell: loads the session, applies its branding, and renders the page of the current route (or the ended page).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from './api';
import { applyBranding } from './branding';
import { ErrorAlert } from './components/ErrorAlert';
import { Layout } from './components/Layout';
import { toApiError } from './hooks';
import { Ended } from './pages/Ended';
import { MessageDetail } from './pages/MessageDetail';
import { MessageList } from './pages/MessageList';
import { NotFound, ReadOnly } from './pages/Placeholders';
import { WebhookDetail } from './pages/WebhookDetail';
import { WebhookForm } from './pages/WebhookForm';
import { WebhookList } from './pages/WebhookList';
import { type Route, useRoute } from './router';
import { SessionContext, getToken, onSessionEnded } from './session';
import type { SessionAttributes } from './types';

function page(route: Route, readOnly: boolean) {
  switch (route.page) {
    case 'webhooks':
      return <WebhookList key={route.query} query={route.query} />;
    case 'webhook-new':
      return readOnly ? <ReadOnly /> : <WebhookForm />;
    case 'webhook':
      return <WebhookDetail key={route.id} id={route.id} />;
    case 'webhook-edit':
      return readOnly ? <ReadOnly /> : <WebhookForm key={route.id} id={route.id} />;
    case 'messages':
      return <MessageList key={route.query} query={route.query} />;
    case 'message':
      return <MessageDetail key={route.id} id={route.id} />;
    default:
      return <NotFound />;
  }
}

const TITLES: Record<Route['page'], string> = {
  webhooks: 'Webhooks',
  'webhook-new': 'New webhook',
  webhook: 'Webhook',
  'webhook-edit': 'Edit webhook',
  messages: 'Messages',
  message: 'Message',
  'not-found': 'Page not found',
};

export function App() {
  const [ended, setEnded] = useState(() => !getToken());
  const [session, setSession] = useState<SessionAttributes | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const route = useRoute();
  const firstRoute = useRef(true);

  useEffect(() => onSessionEnded(() => setEnded(true)), []);
  useEffect(() => {
    if (ended) return;
    api.session().then(
      (document) => {
        applyBranding(document.data.attributes.branding);
        setSession(document.data.attributes);
      },
      (caught: unknown) => setError(toApiError(caught)),
    );
  }, []);

  const routeKey = JSON.stringify(route);
  useEffect(() => {
    if (!session) return;
    document.title = `${TITLES[route.page]} · ${session.account.name}`;
    // Moving focus to the new page tells keyboard and screen-reader users that the page changed.
    if (!firstRoute.current) document.getElementById('main')?.focus();
    firstRoute.current = false;
  }, [routeKey, session]);

  if (ended) return <Ended />;
  if (!session) {
    return (
      <main id="main">
        {error ? (
          <>
            <h1>The portal could not start</h1>
            <ErrorAlert error={error} />
          </>
        ) : (
          <p aria-live="polite">Loading…</p>
        )}
      </main>
    );
  }
  const section = route.page.startsWith('webhook') ? 'webhooks' : route.page.startsWith('message') ? 'messages' : null;
  return (
    <SessionContext.Provider value={session}>
      <Layout section={section}>{page(route, session.read_only)}</Layout>
    </SessionContext.Provider>
  );
}
