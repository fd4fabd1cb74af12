// Administration on an admin's home: approving clinicians who registered, and putting
// clinicians on patients' care teams (what `healthsync care-team add` does).

import { el } from './dom.js';
import { fullName } from './format.js';
import { api } from './session.js';

/** The section, for `patients` (the admin's patient list). */
export async function adminSection(patients) {
  const node = el('section', { class: 'card', id: 'admin' }, el('h2', {}, 'Administration'));
  const pending = el('ul', { id: 'pending' });
  const outcome = el('p', { id: 'admin-outcome', role: 'status' });
  const patient = el('select', { name: 'patient', 'aria-label': 'Patient' },
    patients.map((p) => el('option', { value: p.id }, fullName(p))));
  const clinician = el('select', { name: 'clinician', 'aria-label': 'Clinician' });

  async function say(text, action) {
    try {
      await action();
      outcome.className = '';
      outcome.textContent = text;
      await load();
    } catch (e) {
      outcome.className = 'error';
      outcome.textContent = e.message;
    }
  }

  async function load() {
    const [waiting, active] = await Promise.all([
      api('/api/admin/users?role=clinician&status=pending_approval&limit=200'),
      api('/api/admin/users?role=clinician&status=active&limit=200'),
    ]);
    pending.replaceChildren(
      ...(waiting.items.length === 0
        ? [el('li', { class: 'muted' }, 'No clinician waits for approval.')]
        : waiting.items.map((u) =>
            el('li', { 'data-user': u.id }, `${fullName(u)} (${u.email}) `,
              el('button', {
                class: 'secondary',
                onclick: () => say(`${fullName(u)} is approved.`, () => api(`/api/admin/users/${u.id}/approve`, { method: 'POST' })),
              }, 'Approve')))),
    );
    clinician.replaceChildren(...active.items.map((u) => el('option', { value: u.id }, `${fullName(u)} (${u.email})`)));
  }

  const team = el('form', {
    id: 'care-team',
    class: 'inline',
    onsubmit: (event) => {
      event.preventDefault();
      const names = `${clinician.selectedOptions[0]?.textContent} is on the care team of ${patient.selectedOptions[0]?.textContent}.`;
      say(names, () => api('/api/admin/care-team', { method: 'POST', body: { patient_id: patient.value, clinician_id: clinician.value } }));
    },
  }, el('label', {}, 'Clinician', clinician), el('label', {}, 'Patient', patient), el('button', { type: 'submit' }, 'Add to care team'));

  node.append(el('h3', {}, 'Clinicians waiting for approval'), pending, el('h3', {}, 'Care teams'), team, outcome);
  await load();
  return node;
}
