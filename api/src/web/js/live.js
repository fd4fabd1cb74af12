// Live updates: the WebSocket of the current view, with its one subscription.

import { refresh, session, signOut } from './session.js';

/** The WebSocket of the current view: one subscription, reopened with a fresh token when
 * the server closes it (an expired token, a restart). */
export const live = {
  socket: null,
  subscription: null,
  handler: null,
  retry: null,

  open(subscription, handler) {
    this.close();
    this.subscription = subscription;
    this.handler = handler;
    this.connect();
  },

  connect() {
    const current = session.get();
    if (!current || !this.subscription) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(
      `${scheme}://${location.host}/api/ws?token=${encodeURIComponent(current.access)}`,
    );
    this.socket = socket;
    socket.addEventListener('open', () => {
      socket.send(JSON.stringify({ type: 'subscribe', ...this.subscription }));
    });
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      setLiveState(message.type === 'error' ? 'refused' : 'live');
      if (this.handler) this.handler(message);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      setLiveState('reconnecting');
      this.reconnect();
    });
  },

  // Closed for a token that expired (or a session that ended: then the refresh is refused
  // too, and the user is asked to sign in again), a connection too slow to keep up, or a
  // server restart (then the refresh cannot reach it yet, and is tried again).
  reconnect() {
    this.retry = setTimeout(async () => {
      let renewed;
      try {
        renewed = await refresh();
      } catch {
        this.reconnect();
        return;
      }
      if (renewed) this.connect();
      else signOut('Your session has ended: please sign in again.');
    }, 3000);
  },

  close() {
    clearTimeout(this.retry);
    const socket = this.socket;
    this.socket = null;
    this.subscription = null;
    this.handler = null;
    if (socket) socket.close();
  },
};

function setLiveState(state) {
  const badge = document.getElementById('live-state');
  if (!badge) return;
  badge.dataset.state = state;
  badge.textContent = { live: '\u25cf live', refused: 'live updates refused', reconnecting: 'reconnecting\u2026' }[state];
}
