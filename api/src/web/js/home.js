// Home: a patient goes to their own dashboard; clinicians and admins see their open
// alerts (followed live) and their patients; admins also administer.

import { adminSection } from './admin.js';
import { alertItem, bySeverity } from './alerts.js';
import { el, show } from './dom.js';
import { report } from './failure.js';
import { fullName } from './format.js';
import { live } from './live.js';
import { api, session } from './session.js';

export async function showHome() {
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
  if (user.role === 'admin') patients.after(await adminSection(page.items));
  live.open({ topic: 'alerts' }, (message) => {
    if (message.type === 'alert') loadAlerts().catch(report);
  });
}
