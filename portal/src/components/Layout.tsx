// The frame of every page but the ended one: header with branding and session badges, the Portal nav, and main.
import type { ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';
import { href, paths } from '../router';
import { SessionContext } from '../session';

export function Layout({ section, children }: { section: 'webhooks' | 'messages' | null; children: ComponentChildren }) {
  const session = useContext(SessionContext);
  const logo = session.branding?.logo_url;
  return (
    <>
      <header class="site-header">
        <div class="brand">
          {logo && <img class="logo" src={logo} alt={session.account.name} referrerpolicy="no-referrer" />}
          <span class="account-name">{session.account.name}</span>
          {session.environment === 'sandbox' && <span class="badge">Sandbox</span>}
          {session.read_only && <span class="badge">Read-only</span>}
        </div>
        <nav aria-label="Portal">
          <a href={href(paths.webhooks)} aria-current={section === 'webhooks' ? 'page' : undefined}>
            Webhooks
          </a>
          <a href={href(paths.messages)} aria-current={section === 'messages' ? 'page' : undefined}>
            Messages
          </a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
