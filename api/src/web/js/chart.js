// Line charts drawn as SVG.

import { svg } from './dom.js';

/** A line chart of `series` ([{t, v}] oldest first, t in ms) over [from, to], with an
 * optional band ([{t, lo, hi}]). */
export function lineChart({ series, band = [], from, to, digits = 0, label, width = 640, height = 180, gap = Infinity }) {
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
