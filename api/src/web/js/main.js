// The healthsync web dashboard: a client of the API (see /api/docs) with the signed-in
// user's token. Views are chosen by the address's #fragment:
//   #/                 patients: their own dashboard; clinicians and admins: their patients
//                      and open alerts
//   #/patients/{id}    a patient's dashboard: latest values, NEWS2, alerts, devices, the
//                      report, the last hour of heart rate and daily trends (?days=7, 30
//                      or 90), kept live over the WebSocket
//   #/assistant        patients: the symptom assistant, and their earlier conversations
//                      (#/assistant/{id})
// Everything the server sends is put in the page as text (never as HTML), so a name or an
// alert message cannot inject markup. This module routes; each view has its own.

import { showAssistant } from './assistant.js';
import { report } from './failure.js';
import { fullName } from './format.js';
import { showHome } from './home.js';
import { live } from './live.js';
import { showLogin } from './login.js';
import { showPatient } from './patient.js';
import { SESSION_CHANGED, session, signOut } from './session.js';

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
window.addEventListener(SESSION_CHANGED, route);
document.getElementById('logout').addEventListener('click', () => signOut('Signed out.'));
route();
