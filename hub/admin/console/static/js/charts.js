// Charts drawn as inline SVG: sparklines and bars.

import { s } from './dom.js';

// sparkline draws values (oldest first) as a line with a soft area; nulls are gaps.
export function sparkline(values, { width = 120, height = 28, cls = '', min = 0, title } = {}) {
  const svg = s('svg', { class: 'spark ' + cls, width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title || 'trend' });
  if (title) svg.append(s('title', null, title));
  const pts = values.map((v, i) => [i, v]).filter(([, v]) => v !== null && v !== undefined && !Number.isNaN(v));
  if (pts.length < 2) {
    svg.append(s('text', { class: 'none', x: 0, y: height - 8 }, pts.length ? 'collecting…' : 'no data yet'));
    return svg;
  }
  const n = Math.max(values.length - 1, 1);
  const max = Math.max(...pts.map(([, v]) => v), min + 1e-9);
  const lo = Math.min(min, ...pts.map(([, v]) => v));
  const x = (i) => (i / n) * (width - 4) + 2;
  const y = (v) => height - 3 - ((v - lo) / (max - lo || 1)) * (height - 6);
  const d = pts.map(([i, v], k) => (k ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1)).join(' ');
  const first = pts[0], last = pts[pts.length - 1];
  svg.append(
    s('path', { class: 'area', d: `${d} L${x(last[0]).toFixed(1)} ${height - 1} L${x(first[0]).toFixed(1)} ${height - 1} Z` }),
    s('path', { class: 'line', d }),
    s('circle', { class: 'last', cx: x(last[0]).toFixed(1), cy: y(last[1]).toFixed(1), r: 2.2 }),
  );
  return svg;
}

// bars draws labelled vertical bars: items = [{label, value, cls, title}].
export function bars(items, { width = 560, height = 120, unit = '' } = {}) {
  const svg = s('svg', { class: 'bars', width: '100%', height, viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img' });
  const top = 12, bottom = 16;
  const max = Math.max(1, ...items.map((b) => b.value));
  const slot = width / Math.max(items.length, 1);
  const bw = Math.max(2, Math.min(28, slot * 0.7));
  items.forEach((b, i) => {
    const bh = ((height - top - bottom) * b.value) / max;
    const x = i * slot + (slot - bw) / 2;
    const rect = s('rect', { class: 'bar ' + (b.cls || ''), x: x.toFixed(1), y: (height - bottom - bh).toFixed(1), width: bw.toFixed(1), height: Math.max(bh, b.value > 0 ? 1 : 0).toFixed(1), rx: 1.5 });
    rect.append(s('title', null, b.title || `${b.label}: ${b.value}${unit}`));
    svg.append(rect);
    if (items.length <= 16) svg.append(s('text', { x: (x + bw / 2).toFixed(1), y: height - 4, 'text-anchor': 'middle' }, b.label));
  });
  svg.append(s('line', { class: 'axis', x1: 0, x2: width, y1: height - bottom + 0.5, y2: height - bottom + 0.5 }));
  svg.append(s('text', { x: 2, y: 9 }, `max ${max}${unit}`));
  return svg;
}

// hbar is a horizontal proportion bar (value of max).
export function hbar(value, max, cls = '') {
  const w = max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0;
  const svg = s('svg', { viewBox: '0 0 100 8', preserveAspectRatio: 'none' }, s('rect', { class: cls, x: 0, y: 0, height: 8, width: w.toFixed(2) }));
  return svg;
}
