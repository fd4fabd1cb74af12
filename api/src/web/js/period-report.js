// The weekly or monthly report on a patient's dashboard.

import { el, svg } from './dom.js';
import { report } from './failure.js';
import { METRICS, formatValue, plural } from './format.js';
import { api } from './session.js';

const TIME_IN_RANGE = [
  ['very_low', 'below 54', '#82071e'],
  ['low', '54\u201369', '#cf222e'],
  ['in_range', '70\u2013180', '#1a7f37'],
  ['high', '181\u2013250', '#bc4c00'],
  ['very_high', 'above 250', '#6e3b00'],
];

/** The weekly or monthly report: per-metric statistics, glucose time in range (drawn as one
 * bar), the blood-pressure category of the period's mean, and the alerts raised. */
export async function reportSection(patientId) {
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
