// DOM building and formatting. Text always goes in through textContent, never
// innerHTML, so nothing an agency or a user sent can become markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

// h builds an element: h('td', {class: 'num', onclick: fn}, child, 'text', [more]).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

// s builds an SVG element.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace swaps el's children for the given ones.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// bi is a bilingual label: 中文 <span class=en>English</span>.
export function bi(zh, en) {
  return [zh, ' ', h('span', { class: 'en' }, en)];
}

// The shapes of an 18-digit resident ID number (or an old 15-digit one), as the hub's
// MaskIDs sees them.
const ID_LIKE = /[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]\b|\b[1-9]\d{14}\b/g;

// maskID masks one ID number as contracts.MaskID does: 110105********002X.
export function maskID(id) {
  if (id.length < 10) return '*'.repeat(id.length);
  return id.slice(0, 6) + '*'.repeat(id.length - 10) + id.slice(-4);
}

// maskIDs masks every ID-number-shaped run in text. The API already masks; this keeps
// anything that slipped through (or that a user typed) off the screen.
export function maskIDs(text) {
  return String(text ?? '').replace(ID_LIKE, maskID);
}

// looksLikeID reports whether a typed value is an ID number.
export function looksLikeID(v) {
  return /^(\d{17}[\dXx]|\d{15})$/.test(v.trim());
}

const nf = new Intl.NumberFormat('en-US');
export function num(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '—';
  if (n < 0) return '—';
  return nf.format(n);
}

export function fixed(n, digits = 1) {
  if (n === undefined || n === null || Number.isNaN(n)) return '—';
  return Number(n).toFixed(digits);
}

// yuan formats integer fen as yuan.
export function yuan(fen) {
  if (fen === undefined || fen === null) return '—';
  return '¥' + new Intl.NumberFormat('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(fen / 100);
}

export function isZeroTime(t) {
  return !t || t.startsWith('0001-01-01');
}

// ago is a short relative time ("12s ago", "3m ago"); '—' for a zero time.
export function ago(t, now = Date.now()) {
  if (isZeroTime(t)) return '—';
  const d = Math.round((now - Date.parse(t)) / 1000);
  if (d < 0) return 'in ' + span(-d);
  if (d < 2) return 'just now';
  return span(d) + ' ago';
}

function span(sec) {
  if (sec < 60) return sec + 's';
  if (sec < 3600) return Math.floor(sec / 60) + 'm ' + (sec % 60 ? (sec % 60) + 's' : '');
  if (sec < 86400) return Math.floor(sec / 3600) + 'h ' + Math.floor((sec % 3600) / 60) + 'm';
  return Math.floor(sec / 86400) + 'd ' + Math.floor((sec % 86400) / 3600) + 'h';
}

// when is an absolute local time, for titles and detail views.
export function when(t) {
  if (isZeroTime(t)) return '—';
  const d = new Date(t);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function durationMS(ns) {
  if (!ns) return '—';
  const ms = ns / 1e6;
  if (ms < 1) return '<1 ms';
  return ms < 1000 ? ms.toFixed(0) + ' ms' : (ms / 1000).toFixed(2) + ' s';
}

// badge is a coloured state pill.
export function badge(state, text) {
  return h('span', { class: 'badge ' + String(state).replace(/[^a-z_]/g, '') }, text ?? state);
}

// toast shows a short message in the corner.
export function toast(msg, kind = '') {
  const box = document.getElementById('toasts');
  const t = h('div', { class: 'toast ' + kind, role: 'status' }, maskIDs(msg));
  box.append(t);
  setTimeout(() => t.remove(), kind === 'bad' ? 9000 : 5000);
}

// confirmDialog asks before a destructive action; resolves true on confirm.
export function confirmDialog(title, body, okText) {
  const modal = document.getElementById('modal');
  replace(document.getElementById('modal-title'), title);
  replace(document.getElementById('modal-body'), body);
  const ok = document.getElementById('modal-ok');
  const cancel = document.getElementById('modal-cancel');
  if (okText) replace(ok, okText);
  modal.hidden = false;
  ok.focus();
  return new Promise((resolve) => {
    const done = (v) => {
      modal.hidden = true;
      ok.removeEventListener('click', yes);
      cancel.removeEventListener('click', no);
      document.removeEventListener('keydown', key);
      resolve(v);
    };
    const yes = () => done(true);
    const no = () => done(false);
    const key = (e) => { if (e.key === 'Escape') done(false); };
    ok.addEventListener('click', yes);
    cancel.addEventListener('click', no);
    document.addEventListener('keydown', key);
  });
}
