// How values read: the metrics' names, units and digits, ages of readings, names.

export const METRICS = {
  heart_rate: { label: 'Heart rate', unit: 'bpm', digits: 0 },
  spo2: { label: 'SpO\u2082', unit: '%', digits: 0 },
  blood_pressure: { label: 'Blood pressure', unit: 'mmHg', digits: 0 },
  respiratory_rate: { label: 'Respiratory rate', unit: '/min', digits: 0 },
  body_temperature: { label: 'Temperature', unit: '\u00b0C', digits: 1 },
  blood_glucose: { label: 'Glucose', unit: 'mg/dL', digits: 0 },
  body_weight: { label: 'Weight', unit: 'kg', digits: 1 },
  steps: { label: 'Steps', unit: 'per minute', digits: 0 },
};

export function ago(t) {
  const seconds = Math.max(0, (Date.now() - new Date(t).getTime()) / 1000);
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

export function formatValue(metric, value, value2) {
  const digits = (METRICS[metric] || { digits: 1 }).digits;
  const main = Number(value).toFixed(digits);
  return value2 === undefined || value2 === null ? main : `${main}/${Number(value2).toFixed(digits)}`;
}

export function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function fullName(person) {
  return `${person.first_name} ${person.last_name}`;
}
