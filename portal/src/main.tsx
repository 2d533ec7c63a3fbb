// Entry point: takes the token out of the address before anything renders, then mounts the app.
import { render } from 'preact';
import { App } from './app';
import { captureToken } from './session';
import './styles.css';

captureToken();
// A new session URL opened in a tab that already shows the portal only changes the fragment: start afresh.
window.addEventListener('hashchange', () => {
  if (captureToken()) window.location.reload();
});
render(<App />, document.getElementById('app')!);
