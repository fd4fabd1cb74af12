// What the page says when a view cannot be shown.

import { el, show } from './dom.js';
import { ApiError } from './session.js';

export function report(error) {
  if (error instanceof ApiError && error.status === 401) return;
  const text = error instanceof ApiError && error.status === 403
    ? 'You are not allowed to see this.'
    : error instanceof ApiError && error.status === 404
      ? 'Not found.'
      : `Something went wrong: ${error.message}`;
  show(el('p', { class: 'error', id: 'view-error' }, text), el('p', {}, el('a', { href: '#/' }, 'Back home')));
}
