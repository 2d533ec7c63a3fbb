// The ended page: no token, or the API answered 401 (the session expired or was revoked). No nav.
export function Ended() {
  return (
    <main id="main" class="ended">
      <h1>This session has ended</h1>
      <p>For your security, portal sessions expire. Open the portal again from the app you came from to start a new session.</p>
    </main>
  );
}
