// Signing in.

import { el, notice, show } from './dom.js';
import { SESSION_CHANGED, api, session } from './session.js';

export function showLogin() {
  document.getElementById('nav').hidden = true;
  const error = el('p', { class: 'error', id: 'login-error', hidden: true });
  const form = el(
    'form',
    { id: 'login', class: 'card narrow', onsubmit: login },
    el('h1', {}, 'Sign in'),
    el('label', {}, 'E-mail or phone', el('input', { name: 'identifier', autocomplete: 'username', required: true })),
    el('label', {}, 'Password', el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    error,
    el('button', { type: 'submit' }, 'Sign in'),
  );

  async function login(event) {
    event.preventDefault();
    error.hidden = true;
    const data = new FormData(form);
    try {
      const signedIn = await api('/api/auth/login', {
        method: 'POST',
        body: { identifier: data.get('identifier'), password: data.get('password') },
      });
      session.set(signedIn);
      notice('');
      window.dispatchEvent(new Event(SESSION_CHANGED));
    } catch (e) {
      error.textContent = e.status === 401 ? 'The e-mail or password is not right.' : e.message;
      error.hidden = false;
    }
  }
  show(form);
}
