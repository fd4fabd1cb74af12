// A patient's dashboard: latest values, NEWS2, alerts, devices, the report, the last hour
// of heart rate and the daily trends, kept live over the WebSocket.

import { alertItem, bySeverity } from './alerts.js';
import { lineChart } from './chart.js';
import { devicesSection } from './devices.js';
import { el, show } from './dom.js';
import { report } from './failure.js';
import { METRICS, ago, formatValue, fullName } from './format.js';
import { live } from './live.js';
import { reportSection } from './period-report.js';
import { api, session } from './session.js';

const LIVE_MINUTES = 60;

export async function showPatient(id, trendDays = 7) {
  show(el('p', { class: 'muted' }, 'Loading\u2026'));
  const to = new Date();
  const from = new Date(to.getTime() - LIVE_MINUTES * 60000);
  const [profile, board, lastHour, devices, summary] = await Promise.all([
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
    summary.node,
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
