// Alerts as listed on the home and patient views, with a clinician's acknowledge and
// resolve.

import { el } from './dom.js';
import { report } from './failure.js';
import { ago } from './format.js';
import { api, session } from './session.js';

const SEVERITY_RANK = { high: 0, medium: 1, low: 2 };

/** The most severe first, newest first within a severity (the API lists newest first). */
export function bySeverity(alerts) {
  return alerts
    .map((a, i) => [a, i])
    .sort(([a, i], [b, j]) => (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) || i - j)
    .map(([a]) => a);
}

export function alertItem(alert, patientName, reload) {
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
