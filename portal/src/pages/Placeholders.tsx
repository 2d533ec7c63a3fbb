// Pages in place of others: a hash route the portal does not know, and a form a read-only session may not use.
import { href, paths } from '../router';

export function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        This address is not part of the portal. Go to <a href={href(paths.webhooks)}>your webhooks</a>.
      </p>
    </>
  );
}

export function ReadOnly() {
  return (
    <>
      <h1>Read-only session</h1>
      <p>
        This session can look but not change anything. Go back to <a href={href(paths.webhooks)}>your webhooks</a>.
      </p>
    </>
  );
}
