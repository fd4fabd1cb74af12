// The signed-in session: its tokens in the tab's sessionStorage, the API client that sends
// them and renews them, and signing out. A change of session is announced as the window
// event SESSION_CHANGED, which the router answers.

import { notice } from './dom.js';

export const SESSION_CHANGED = 'healthsync:session';
const SESSION_KEY = 'healthsync.session';

export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION_KEY));
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
};

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// A refresh token works once and reusing one ends the session, so concurrent requests that
// find their token expired share one refresh.
let refreshing = null;

export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const current = session.get();
      if (!current) return false;
      const response = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh: current.refresh }),
      });
      if (!response.ok) return false;
      const tokens = await response.json();
      session.set({ ...current, access: tokens.access, refresh: tokens.refresh });
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

export async function api(path, options = {}) {
  for (let attempt = 0; ; attempt++) {
    const current = session.get();
    const headers = {};
    if (current) headers.authorization = `Bearer ${current.access}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method: options.method || 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    if (response.status === 401 && current && attempt === 0 && (await refresh())) continue;
    const data = await response.json().catch(() => null);
    if (response.status === 401 && current) {
      signOut('Your session has ended: please sign in again.');
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiError(response.status, error.message || response.statusText);
    }
    return data;
  }
}

export function signOut(message) {
  const current = session.get();
  session.clear();
  if (current) {
    // Ends the session on the server too; the page does not wait for it.
    fetch('/api/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh: current.refresh }),
    }).catch(() => {});
  }
  notice(message);
  location.hash = '#/';
  window.dispatchEvent(new Event(SESSION_CHANGED));
}
