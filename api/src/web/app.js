// The healthsync web dashboard: a client of the API (see /api/docs) with the signed-in
// user's token. Views are chosen by the address's #fragment:
//   #/                 patients: their own dashboard; clinicians and admins: their patients
//                      and open alerts
//   #/patients/{id}    a patient's dashboard: latest values, NEWS2, alerts, the last hour
//                      of heart rate and 7-day trends, kept live over the WebSocket
//   #/assistant        patients: the symptom assistant, and their earlier conversations
//                      (#/assistant/{id})
// Everything the server sends is put in the page as text (never as HTML), so a name or an
// alert message cannot inject markup.
'use strict';

const METRICS = {
  heart_rate: { label: 'Heart rate', unit: 'bpm', digits: 0 },
  spo2: { label: 'SpO\u2082', unit: '%', digits: 0 },
  blood_pressure: { label: 'Blood pressure', unit: 'mmHg', digits: 0 },
  respiratory_rate: { label: 'Respiratory rate', unit: '/min', digits: 0 },
  body_temperature: { label: 'Temperature', unit: '\u00b0C', digits: 1 },
  blood_glucose: { label: 'Glucose', unit: 'mg/dL', digits: 0 },
  body_weight: { label: 'Weight', unit: 'kg', digits: 1 },
  steps: { label: 'Steps', unit: 'per minute', digits: 0 },
};
// Headings of the five triage levels; the reply's advice says what to do.
const TRIAGE = {
  emergency_ambulance: 'Emergency: ambulance',
  emergency: 'Emergency department',
  consultation_24: 'Doctor within 24 hours',
  consultation: 'Doctor in the coming days',
  self_care: 'Self-care',
};
const ANSWERS = { yes: 'Yes', no: 'No', unsure: 'Not sure' };
const SESSION_KEY = 'healthsync.session';
const LIVE_MINUTES = 60;

// ---------------------------------------------------------------- small helpers

/** An element with attributes (`on*` functions become listeners) and children (strings
 * become text nodes). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function show(...nodes) {
  document.getElementById('view').replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
}

function notice(text) {
  const box = document.getElementById('notice');
  box.textContent = text || '';
  box.hidden = !text;
}

function ago(t) {
  const seconds = Math.max(0, (Date.now() - new Date(t).getTime()) / 1000);
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

function formatValue(metric, value, value2) {
  const digits = (METRICS[metric] || { digits: 1 }).digits;
  const main = Number(value).toFixed(digits);
  return value2 === undefined || value2 === null ? main : `${main}/${Number(value2).toFixed(digits)}`;
}

function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function fullName(person) {
  return `${person.first_name} ${person.last_name}`;
}

// ---------------------------------------------------------------- session and API

const session = {
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

class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// A refresh token works once and reusing one ends the session, so concurrent requests that
// find their token expired share one refresh.
let refreshing = null;

function refresh() {
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

async function api(path, options = {}) {
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
      throw new ApiError(response.status, error.message || response.statusText, error.code);
    }
    return data;
  }
}

function signOut(message) {
  const current = session.get();
  session.clear();
  live.close();
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
  route();
}

// ---------------------------------------------------------------- live updates

/** The WebSocket of the current view: one subscription, reopened with a fresh token when
 * the server closes it (an expired token, a restart). */
const live = {
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

// ---------------------------------------------------------------- charts (SVG)

/** A line chart of `series` ([{t, v}] oldest first, t in ms) over [from, to], with an
 * optional band ([{t, lo, hi}]). */
function lineChart({ series, band = [], from, to, digits = 0, label, width = 640, height = 180, gap = Infinity }) {
  const pad = { left: 44, right: 10, top: 10, bottom: 22 };
  const values = series.map((p) => p.v).concat(band.flatMap((b) => [b.lo, b.hi]));
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'chart',
    role: 'img',
    'aria-label': label,
  });
  if (values.length === 0) {
    chart.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'empty' }, 'no readings'));
    return chart;
  }
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const margin = (hi - lo) * 0.1;
  lo -= margin;
  hi += margin;
  const x = (t) => pad.left + ((t - from) / Math.max(1, to - from)) * (width - pad.left - pad.right);
  const y = (v) => pad.top + (1 - (v - lo) / (hi - lo)) * (height - pad.top - pad.bottom);
  for (const v of [lo + margin, hi - margin]) {
    chart.append(
      svg('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, v.toFixed(digits)),
    );
  }
  const time = (t) => new Date(t).toLocaleString([], to - from > 2 * 86400000
    ? { month: 'short', day: 'numeric' }
    : { hour: '2-digit', minute: '2-digit' });
  chart.append(
    svg('text', { x: pad.left, y: height - 4, class: 'axis' }, time(from)),
    svg('text', { x: width - pad.right, y: height - 4, 'text-anchor': 'end', class: 'axis' }, time(to - 1)),
  );
  if (band.length > 0) {
    const upper = band.map((b) => `${x(b.t).toFixed(1)},${y(b.hi).toFixed(1)}`);
    const lower = band.slice().reverse().map((b) => `${x(b.t).toFixed(1)},${y(b.lo).toFixed(1)}`);
    chart.append(svg('polygon', { points: upper.concat(lower).join(' '), class: 'band' }));
  }
  if (series.length > 0) {
    // A gap in the readings longer than `gap` is left open rather than bridged.
    const d = series
      .map((p, i) => `${i && p.t - series[i - 1].t <= gap ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`)
      .join('');
    chart.append(svg('path', { d, class: 'line', 'data-points': series.length }));
    for (const p of series.length <= 31 ? series : []) {
      chart.append(svg('circle', { cx: x(p.t), cy: y(p.v), r: 3, class: 'dot' }, svg('title', {}, p.v.toFixed(digits))));
    }
  }
  return chart;
}

// ---------------------------------------------------------------- views

function showLogin() {
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
      route();
    } catch (e) {
      error.textContent = e.status === 401 ? 'The e-mail or password is not right.' : e.message;
      error.hidden = false;
    }
  }
  show(form);
}

async function showHome() {
  const { user } = session.get();
  if (user.role === 'patient') {
    location.replace(`#/patients/${user.id}`);
    return;
  }
  const alerts = el('section', { class: 'card', id: 'alerts' }, el('h2', {}, 'Open alerts'));
  const patients = el('section', { class: 'card', id: 'patients' }, el('h2', {}, 'Patients'));
  show(el('h1', {}, 'Your patients ', el('span', { id: 'live-state', class: 'live' })), alerts, patients);

  const names = new Map();
  const page = await api('/api/patients?limit=200');
  for (const p of page.items) names.set(p.id, fullName(p));
  patients.append(
    page.items.length === 0
      ? el('p', { class: 'muted' }, 'No patients yet: an admin puts patients on your care team.')
      : el(
          'table',
          {},
          el('thead', {}, el('tr', {}, el('th', {}, 'Name'), el('th', {}, 'Born'), el('th', {}, 'Sex'), el('th', {}, 'E-mail'))),
          el(
            'tbody',
            {},
            page.items.map((p) =>
              el(
                'tr',
                { 'data-patient': p.id },
                el('td', {}, el('a', { href: `#/patients/${p.id}` }, fullName(p))),
                el('td', {}, p.date_of_birth || '\u2013'),
                el('td', {}, p.sex || '\u2013'),
                el('td', {}, p.email),
              ),
            ),
          ),
        ),
  );
  if (page.next_offset !== undefined && page.next_offset !== null) {
    patients.append(el('p', { class: 'muted' }, 'The first 200 patients by last name.'));
  }

  const list = el('ul', { class: 'alerts' });
  alerts.append(list);
  async function loadAlerts() {
    const open = await api('/api/alerts?status=open&limit=50');
    list.replaceChildren(
      ...(open.items.length === 0
        ? [el('li', { class: 'muted' }, 'None open.')]
        : bySeverity(open.items).map((a) => alertItem(a, names.get(a.patient_id), loadAlerts))),
    );
  }
  await loadAlerts();
  live.open({ topic: 'alerts' }, (message) => {
    if (message.type === 'alert') loadAlerts().catch(report);
  });
}

const SEVERITY_RANK = { high: 0, medium: 1, low: 2 };

/** The most severe first, newest first within a severity (the API lists newest first). */
function bySeverity(alerts) {
  return alerts
    .map((a, i) => [a, i])
    .sort(([a, i], [b, j]) => (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) || i - j)
    .map(([a]) => a);
}

function alertItem(alert, patientName, reload) {
  const { user } = session.get();
  const actions = [];
  if (user.role === 'clinician') {
    const act = (verb) => async () => {
      try {
        await api(`/api/alerts/${alert.id}/${verb}`, { method: 'POST', body: verb === 'resolve' ? {} : undefined });
        await reload();
      } catch (e) {
        report(e);
      }
    };
    if (alert.status === 'open') actions.push(el('button', { class: 'secondary', onclick: act('acknowledge') }, 'Acknowledge'));
    actions.push(el('button', { class: 'secondary', onclick: act('resolve') }, 'Resolve'));
  }
  return el(
    'li',
    { class: `alert ${alert.severity}`, 'data-alert': alert.id },
    el('span', { class: 'severity' }, alert.severity),
    el('strong', {}, alert.title),
    patientName ? el('a', { href: `#/patients/${alert.patient_id}` }, patientName) : null,
    el('span', { class: 'muted' }, `${alert.status}, ${ago(alert.triggered_at)}`),
    actions.length ? el('div', { class: 'actions' }, actions) : null,
    el('p', {}, alert.message),
  );
}

async function showPatient(id, trendDays = 7) {
  show(el('p', { class: 'muted' }, 'Loading\u2026'));
  const to = new Date();
  const from = new Date(to.getTime() - LIVE_MINUTES * 60000);
  const [profile, board, lastHour, devices, report] = await Promise.all([
    api(`/api/patients/${id}`),
    api(`/api/patients/${id}/dashboard?days=${trendDays}`),
    api(`/api/patients/${id}/metrics?metric=heart_rate&bucket=1m&from=${from.toISOString()}&to=${to.toISOString()}`),
    devicesSection(id),
    reportSection(id),
  ]);
  const { user } = session.get();

  const tiles = el('section', { class: 'tiles', id: 'latest' });
  const tile = new Map();
  for (const metric of Object.keys(METRICS)) {
    const node = el(
      'div',
      { class: 'tile', 'data-metric': metric, hidden: true },
      el('div', { class: 'label' }, METRICS[metric].label),
      el('div', {}, el('span', { class: 'value' }), ' ', el('span', { class: 'unit' }, METRICS[metric].unit)),
      el('div', { class: 'when muted' }),
    );
    tile.set(metric, node);
    tiles.append(node);
  }
  function setTile(reading) {
    const node = tile.get(reading.metric);
    if (!node) return;
    node.hidden = false;
    node.querySelector('.value').textContent = formatValue(reading.metric, reading.value, reading.value2);
    node.querySelector('.when').textContent = ago(reading.t);
    node.dataset.t = reading.t;
  }
  board.latest.forEach(setTile);

  const news2 = board.news2
    ? el(
        'div',
        { class: `news2 ${board.news2.risk}`, id: 'news2' },
        el('span', { class: 'label' }, 'NEWS2 '),
        el('strong', {}, String(board.news2.total)),
        ` ${String(board.news2.risk).replace(/_/g, ' ')} risk`,
        board.news2.missing.length ? el('span', { class: 'muted' }, ` (not measured: ${board.news2.missing.join(', ')})`) : null,
      )
    : el('div', { class: 'news2 muted', id: 'news2' }, 'NEWS2: fewer than 3 parameters measured in the last hour');

  const alertList = el('ul', { class: 'alerts' });
  function renderAlerts(items) {
    alertList.replaceChildren(
      ...(items.length === 0 ? [el('li', { class: 'muted' }, 'None open.')] : bySeverity(items).map((a) => alertItem(a, null, reloadAlerts))),
    );
  }
  async function reloadAlerts() {
    const page = await api(`/api/alerts?patient_id=${id}&limit=50`);
    renderAlerts(page.items.filter((a) => a.status !== 'resolved'));
  }
  renderAlerts(board.open_alerts);

  // The last hour of heart rate by minute; live readings update the minute they fall in.
  const minutes = new Map();
  for (const b of lastHour.items) minutes.set(new Date(b.t).getTime(), { sum: b.avg * b.count, count: b.count });
  const liveChart = el('div', { id: 'live-chart' });
  function drawLive() {
    const now = Date.now();
    const start = now - LIVE_MINUTES * 60000;
    for (const t of minutes.keys()) if (t < start - 60000) minutes.delete(t);
    const series = [...minutes.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([t, m]) => ({ t: t + 30000, v: m.sum / m.count }));
    liveChart.replaceChildren(
      lineChart({ series, from: start, to: now, gap: 2 * 60000, label: 'Heart rate, last hour, per minute' }),
    );
  }
  drawLive();
  let redraw = null;

  const trends = el('section', { class: 'trends', id: 'trends' });
  // Trend buckets are UTC days: the axis runs from the first day's start to today's end.
  const days = board.trend_days;
  const end = Math.floor(Date.now() / 86400000) * 86400000 + 86400000;
  const begin = end - days * 86400000;
  for (const metric of Object.keys(METRICS)) {
    const buckets = board.trend.filter((b) => b.metric === metric);
    if (buckets.length === 0) continue;
    const midday = (b) => new Date(b.t).getTime() + 43200000;
    // Blood pressure's buckets carry diastolic pressure as avg2, min2 and max2.
    const daily = (suffix, name) =>
      lineChart({
        series: buckets.map((b) => ({ t: midday(b), v: b[`avg${suffix}`] })),
        band: buckets.map((b) => ({ t: midday(b), lo: b[`min${suffix}`], hi: b[`max${suffix}`] })),
        from: begin,
        to: end,
        digits: METRICS[metric].digits,
        label: `${name}, daily average and range, last ${days} days`,
        width: 440,
        height: 170,
      });
    const parts = metric === 'blood_pressure'
      ? [daily('', 'Systolic pressure'), daily('2', 'Diastolic pressure')]
      : [daily('', METRICS[metric].label)];
    trends.append(
      el(
        'figure',
        { class: 'card', 'data-trend': metric },
        el('figcaption', {}, metric === 'blood_pressure' ? 'Blood pressure (systolic, then diastolic)' : METRICS[metric].label, el('span', { class: 'muted' }, ` ${METRICS[metric].unit}, daily average with range`)),
        parts,
      ),
    );
  }

  const born = profile.date_of_birth ? `born ${profile.date_of_birth}` : null;
  show(
    el(
      'div',
      { class: 'patient-head' },
      el('h1', {}, el('span', { id: 'patient-name' }, fullName(profile)), ' ', el('span', { id: 'live-state', class: 'live' })),
      el('p', { class: 'muted' }, [born, profile.sex].filter(Boolean).join(', ')),
      news2,
    ),
    tiles,
    board.insights.length ? el('ul', { class: 'insights' }, board.insights.map((i) => el('li', {}, i.text))) : null,
    el('section', { class: 'card' }, el('h2', {}, 'Open alerts'), alertList),
    devices.node,
    report.node,
    el('section', { class: 'card' }, el('h2', {}, 'Heart rate, last hour'), liveChart),
    el(
      'div',
      { class: 'trend-head', id: 'trend-head' },
      el('h2', {}, `Last ${days} days`),
      el(
        'select',
        {
          id: 'trend-days',
          'aria-label': 'Days of trend',
          onchange: (event) => { location.hash = `#/patients/${id}?days=${event.target.value}`; },
        },
        [7, 30, 90].map((n) => el('option', { value: n, selected: n === days }, `${n} days`)),
      ),
    ),
    trends.childElementCount ? trends : el('p', { class: 'muted' }, 'No readings in these days.'),
    user.role === 'patient' ? el('p', {}, el('a', { href: '#/assistant' }, 'Not feeling well? Ask the symptom assistant.')) : null,
  );

  live.open({ topic: 'patient', patient_id: id }, (message) => {
    if (message.type === 'reading') {
      setTile(message);
      devices.seen(message.device_id);
      if (message.metric === 'heart_rate') {
        const t = new Date(message.t).getTime();
        const minute = t - (t % 60000);
        const m = minutes.get(minute) || { sum: 0, count: 0 };
        m.sum += message.value;
        m.count += 1;
        minutes.set(minute, m);
        // A 1 Hz stream redraws once a second, not once a reading.
        if (!redraw) redraw = setTimeout(() => { redraw = null; drawLive(); }, 1000);
      }
    } else if (message.type === 'alert') {
      reloadAlerts().catch(report);
    }
  });
}

const TIME_IN_RANGE = [
  ['very_low', 'below 54', '#82071e'],
  ['low', '54\u201369', '#cf222e'],
  ['in_range', '70\u2013180', '#1a7f37'],
  ['high', '181\u2013250', '#bc4c00'],
  ['very_high', 'above 250', '#6e3b00'],
];

/** The weekly or monthly report: per-metric statistics, glucose time in range (drawn as one
 * bar), the blood-pressure category of the period's mean, and the alerts raised. */
async function reportSection(patientId) {
  const node = el('section', { class: 'card', id: 'report' });
  async function load(period) {
    const data = await api(`/api/patients/${patientId}/report?period=${period}`);
    const pick = el(
      'select',
      { 'aria-label': 'Report period', onchange: (event) => load(event.target.value).catch(report) },
      el('option', { value: 'week', selected: period === 'week' }, 'last 7 days'),
      el('option', { value: 'month', selected: period === 'month' }, 'last 30 days'),
    );
    const number = (metric, v) => (v === null || v === undefined ? '\u2013' : formatValue(metric, v));
    const rows = data.metrics.map((m) =>
      el(
        'tr',
        { 'data-summary': m.metric },
        el('td', {}, (METRICS[m.metric] || { label: m.metric }).label),
        el('td', { class: 'count' }, String(m.count)),
        el('td', {}, formatValue(m.metric, m.min, m.min2)),
        el('td', {}, `${formatValue(m.metric, m.mean, m.mean2)}${m.sd === null || m.sd === undefined ? '' : ` \u00b1 ${number(m.metric, m.sd)}`}`),
        el('td', {}, formatValue(m.metric, m.max, m.max2)),
        el('td', { class: 'muted' }, (METRICS[m.metric] || { unit: '' }).unit),
      ),
    );
    const parts = [
      el('div', { class: 'trend-head' }, el('h2', {}, 'Report'), pick),
      rows.length
        ? el('table', {},
            el('thead', {}, el('tr', {}, ['', 'Readings', 'Lowest', 'Mean \u00b1 SD', 'Highest', ''].map((h) => el('th', {}, h)))),
            el('tbody', {}, rows))
        : el('p', { class: 'muted' }, 'No readings in this period.'),
    ];
    const tir = data.glucose_time_in_range;
    if (tir) {
      const bar = svg('svg', { viewBox: '0 0 100 6', class: 'tir', role: 'img', 'aria-label': 'Glucose time in range' });
      let x = 0;
      for (const [key, , colour] of TIME_IN_RANGE) {
        const share = tir[key] * 100;
        bar.append(svg('rect', { x, y: 0, width: share, height: 6, fill: colour, 'data-range': key }));
        x += share;
      }
      parts.push(
        el('h3', {}, `Glucose time in range (${plural(tir.readings, 'reading')})`),
        bar,
        el('p', { class: 'muted' }, TIME_IN_RANGE.map(([key, label]) => `${label} mg/dL: ${Math.round(tir[key] * 100)} %`).join(' \u00b7 ')),
      );
    }
    const bp = data.blood_pressure;
    if (bp) {
      parts.push(
        el('p', { class: 'bp-category' },
          `Blood pressure: mean ${Math.round(bp.mean_systolic)}/${Math.round(bp.mean_diastolic)} mmHg over ${plural(bp.readings, 'reading')}, `,
          el('strong', {}, String(bp.category).replace(/(\d)/, ' $1').replace(/_/g, ' ')),
          ' (ACC/AHA category of the mean).'),
      );
    }
    const a = data.alerts;
    parts.push(el('p', { class: 'muted' }, `Alerts raised: ${a.raised} (high ${a.high}, medium ${a.medium}, low ${a.low}); ${a.unresolved} not resolved.`));
    node.replaceChildren(...parts);
  }
  await load('week');
  return { node };
}

const DEVICE_KINDS = {
  smartwatch: 'Smartwatch',
  bp_monitor: 'Blood-pressure monitor',
  pulse_oximeter: 'Pulse oximeter',
  glucometer: 'Glucose meter',
  thermometer: 'Thermometer',
  scale: 'Scale',
  manual: 'Entered by hand',
};

/** A patient's devices: whether each is online, when it last sent, its battery. The
 * patient (and an admin) also add devices, rotate their keys and revoke them here; a new
 * key is shown once, with what the device needs to connect. Resolves to `{node, seen}`,
 * `seen(deviceId)` marking a device as just heard from. */
async function devicesSection(patientId) {
  const { user } = session.get();
  const manages = user.id === patientId || user.role === 'admin';
  const node = el('section', { class: 'card', id: 'devices' }, el('h2', {}, 'Devices'));
  const table = el('tbody');
  const keyPanel = el('div', { id: 'device-key', hidden: true });
  const rows = new Map();

  function showKey(answer) {
    const topic = `devices/${answer.device_id}/telemetry`;
    keyPanel.replaceChildren(
      el('p', {}, el('strong', {}, 'Copy the key now: it is not shown again.')),
      el('dl', {},
        el('dt', {}, 'Device id (MQTT client id and user name)'), el('dd', { class: 'mono', 'data-field': 'device_id' }, answer.device_id),
        el('dt', {}, 'API key (MQTT password)'), el('dd', { class: 'mono', 'data-field': 'api_key' }, answer.api_key),
        el('dt', {}, 'Topic to publish readings to'), el('dd', { class: 'mono' }, topic),
      ),
      el('p', { class: 'muted' }, 'The broker address is the MQTT address healthsync prints when it starts.'),
    );
    keyPanel.hidden = false;
  }

  async function act(request, after) {
    try {
      const answer = await api(request.path, { method: request.method, body: request.body });
      if (after) after(answer);
      await load();
    } catch (e) {
      keyPanel.replaceChildren(el('p', { class: 'error' }, e.message));
      keyPanel.hidden = false;
    }
  }

  function row(device) {
    const actions = [];
    if (manages && device.status === 'active' && device.kind !== 'manual') {
      actions.push(
        el('button', { class: 'secondary', 'data-action': 'rotate', onclick: () => act({ path: `/api/devices/${device.id}/rotate-key`, method: 'POST' }, showKey) }, 'New key'),
      );
      // Two steps: a revoked device cannot send again.
      const revoke = el('button', {
        class: 'secondary',
        'data-action': 'revoke',
        onclick: () => {
          if (revoke.dataset.armed) act({ path: `/api/devices/${device.id}`, method: 'DELETE' });
          else {
            revoke.dataset.armed = 'true';
            revoke.textContent = 'Revoke: sure?';
          }
        },
      }, 'Revoke');
      actions.push(revoke);
    }
    const seen = el('td', { class: 'seen' }, device.last_seen_at ? ago(device.last_seen_at) : 'never');
    const tr = el(
      'tr',
      { 'data-device': device.id, 'data-status': device.status },
      el('td', {}, device.display_name),
      el('td', {}, DEVICE_KINDS[device.kind] || device.kind),
      el('td', {}, device.status === 'revoked' ? 'revoked' : device.online ? 'online' : 'offline'),
      seen,
      el('td', {}, device.battery === null || device.battery === undefined ? '\u2013' : `${Math.round(device.battery)} %`),
      el('td', { class: 'mono' }, device.api_key_prefix || ''),
      el('td', {}, el('div', { class: 'actions' }, actions)),
    );
    rows.set(device.id, seen);
    return tr;
  }

  async function load() {
    const page = await api(`/api/devices?patient_id=${patientId}&limit=200`);
    rows.clear();
    table.replaceChildren(...page.items.map(row));
    if (page.items.length === 0) table.append(el('tr', {}, el('td', { colspan: 7, class: 'muted' }, 'No devices yet.')));
  }

  node.append(
    el('table', {},
      el('thead', {}, el('tr', {}, ['Name', 'Kind', 'State', 'Last heard', 'Battery', 'Key starts', ''].map((h) => el('th', {}, h)))),
      table,
    ),
  );
  if (manages) {
    const kind = el('select', { name: 'kind' },
      Object.entries(DEVICE_KINDS).filter(([k]) => k !== 'manual').map(([k, label]) => el('option', { value: k }, label)));
    const name = el('input', { name: 'name', maxlength: 100, placeholder: 'Optional, e.g. Kitchen scale' });
    const form = el('form', {
      id: 'add-device',
      class: 'inline',
      onsubmit: (event) => {
        event.preventDefault();
        const body = { kind: kind.value, patient_id: patientId };
        if (name.value.trim()) body.name = name.value.trim();
        if (user.id === patientId) delete body.patient_id;
        name.value = '';
        act({ path: '/api/devices', method: 'POST', body }, showKey);
      },
    }, el('label', {}, 'Kind', kind), el('label', {}, 'Name', name), el('button', { type: 'submit' }, 'Add device'));
    node.append(el('h3', {}, 'Add a device'), form, keyPanel);
  }
  await load();
  return {
    node,
    seen(deviceId) {
      const cell = rows.get(deviceId);
      if (cell) cell.textContent = 'just now';
    },
  };
}

// ---------------------------------------------------------------- symptom assistant

/** The assistant: a new conversation, or an earlier one (`conversation`) shown from its
 * stored messages and continued. */
async function showAssistant(conversation = null) {
  const transcript = el('div', { id: 'transcript' });
  const input = el('textarea', { name: 'content', rows: 3, maxlength: 2000, placeholder: 'For example: I have had a sore throat and a temperature for three days' });
  const send = el('button', { type: 'submit' }, 'Send');
  const [earlier, stored] = await Promise.all([
    api('/api/assistant/conversations?limit=20'),
    conversation ? api(`/api/assistant/conversations/${conversation}/messages?limit=200`) : null,
  ]);
  if (stored) {
    const last = stored.items.filter((m) => m.role === 'assistant').pop();
    for (const message of stored.items) {
      if (message.role === 'patient') {
        const said = message.answered ? ANSWERS[message.content] || message.content : message.content;
        transcript.append(el('p', { class: 'said' }, said));
      }
      // Only the last reply's question still waits for an answer.
      else if (message.reply) transcript.append(replyView(message.reply, [], message === last ? post : null));
    }
  }

  async function post(body, said) {
    transcript.append(el('p', { class: 'said' }, said));
    send.disabled = true;
    try {
      const answer = conversation
        ? await api(`/api/assistant/conversations/${conversation}/messages`, { method: 'POST', body })
        : await api('/api/assistant/conversations', { method: 'POST', body });
      if (!conversation) {
        conversation = answer.id;
        history.replaceState(null, '', `#/assistant/${conversation}`);
      }
      transcript.append(replyView(answer.reply, answer.providers || [], post));
    } catch (e) {
      transcript.append(el('p', { class: 'error' }, e.status === 503 ? `The assistant is unavailable: ${e.message}` : e.message));
    } finally {
      send.disabled = false;
    }
  }

  const form = el(
    'form',
    {
      class: 'card',
      id: 'ask',
      onsubmit: (event) => {
        event.preventDefault();
        const content = input.value.trim();
        if (!content) return;
        input.value = '';
        post({ content }, content);
      },
    },
    el('label', {}, 'Describe how you feel, in your own words', input),
    send,
  );
  const past = earlier.items.map((c) =>
    el(
      'li',
      { 'data-conversation': c.id },
      el('a', { href: `#/assistant/${c.id}` }, new Date(c.created_at).toLocaleString()),
      c.last_triage ? ` \u2013 ${TRIAGE[c.last_triage] || c.last_triage}` : ' \u2013 no reply yet',
      el('span', { class: 'muted' }, ` (${c.message_count} messages)`),
    ),
  );
  show(
    el('h1', {}, 'Symptom assistant'),
    el('p', { class: 'muted' }, 'It suggests how urgently to get help and what it might be. It is not a diagnosis. In an emergency call 999 (or your local emergency number).'),
    transcript,
    form,
    past.length
      ? el(
          'section',
          { class: 'card', id: 'earlier' },
          el('h2', {}, 'Earlier conversations'),
          el('p', {}, el('a', { href: '#/assistant' }, 'Start a new conversation')),
          el('ul', {}, past),
        )
      : null,
  );
}

function replyView(reply, providers, post) {
  const triage = reply.triage;
  const card = el(
    'div',
    { class: `reply card triage-${triage.level}`, 'data-triage': triage.level },
    el('h2', {}, TRIAGE[triage.level] || triage.level),
    el('p', {}, triage.advice),
    triage.reasons.length ? el('ul', { class: 'muted' }, triage.reasons.map((r) => el('li', {}, r))) : null,
  );
  if (reply.conditions.length) {
    card.append(
      el('h3', {}, 'What it might be'),
      el(
        'ul',
        { class: 'conditions' },
        reply.conditions.map((c) =>
          el(
            'li',
            {},
            el('span', { class: 'share' }, el('span', { class: 'fill', 'data-share': Math.round(c.probability * 100) })),
            `${c.name} (${c.icd10}) \u2013 ${Math.round(c.probability * 100)} %`,
          ),
        ),
      ),
    );
    // The policy allows no inline style attribute; widths are set through the CSSOM.
    card.querySelectorAll('.fill').forEach((f) => { f.style.width = `${f.dataset.share}%`; });
  }
  if (reply.specialty) card.append(el('p', {}, `Whom to see: ${reply.specialty.replace(/_/g, ' ')}.`));
  if (providers.length) {
    card.append(el('p', {}, 'You could book: ', providers.map((p) => `${p.name}${p.on_care_team ? ' (your care team)' : ''}`).join(', ')));
  }
  if (reply.self_care.length) card.append(el('h3', {}, 'Looking after yourself'), el('ul', {}, reply.self_care.map((s) => el('li', {}, s))));
  if (reply.question && post) {
    const buttons = reply.question.choices.map((choice) =>
      el('button', {
        type: 'button',
        class: 'secondary',
        'data-answer': choice,
        onclick: () => {
          buttons.forEach((b) => { b.disabled = true; });
          post({ answer: choice }, ANSWERS[choice] || choice);
        },
      }, ANSWERS[choice] || choice),
    );
    card.append(el('div', { class: 'question' }, el('strong', {}, reply.question.text), el('div', { class: 'actions' }, buttons)));
  }
  card.append(el('p', { class: 'disclaimer muted' }, reply.disclaimer));
  return card;
}

// ---------------------------------------------------------------- routing

function report(error) {
  if (error instanceof ApiError && error.status === 401) return;
  const text = error instanceof ApiError && error.status === 403
    ? 'You are not allowed to see this.'
    : error instanceof ApiError && error.status === 404
      ? 'Not found.'
      : `Something went wrong: ${error.message}`;
  show(el('p', { class: 'error', id: 'view-error' }, text), el('p', {}, el('a', { href: '#/' }, 'Back home')));
}

function route() {
  live.close();
  const current = session.get();
  if (!current) {
    showLogin();
    return;
  }
  const { user } = current;
  document.getElementById('nav').hidden = false;
  document.getElementById('who').textContent = `${fullName(user)} (${user.role})`;
  document.getElementById('nav-assistant').hidden = user.role !== 'patient';
  const path = location.hash.replace(/^#/, '') || '/';
  const patient = path.match(/^\/patients\/([0-9a-fA-F-]{36})(?:\?days=(7|30|90))?$/);
  const assistant = path.match(/^\/assistant(?:\/([0-9a-fA-F-]{36}))?$/);
  let view;
  if (patient) view = showPatient(patient[1], Number(patient[2] || 7));
  else if (assistant && user.role === 'patient') view = showAssistant(assistant[1] || null);
  else view = showHome();
  Promise.resolve(view).catch(report);
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', () => {
  document.getElementById('logout').addEventListener('click', () => signOut('Signed out.'));
  route();
});
