// A patient's devices on their dashboard, managed by the patient (or an admin).

import { el } from './dom.js';
import { ago } from './format.js';
import { api, session } from './session.js';

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
export async function devicesSection(patientId) {
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
