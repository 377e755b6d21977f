// Audit search: who asked about whom, when, under which program, with which
// decision. A subject may be a USCC or an ID number; the hub pseudonymises an ID
// number before searching, and this page shows it masked once submitted — the raw
// value stays in memory only, never in the address bar or the list.

import { h, replace, bi, badge, when, num, yuan, maskIDs, maskID, looksLikeID } from './dom.js';
import { api } from './api.js';

export function audit(view) {
  let rawSubject = ''; // the last subject submitted, unmasked, kept only here
  let results = null;
  let error = null;
  let searching = false;

  const subjectIn = h('input', { type: 'text', id: 'audit-subject', spellcheck: 'false', autocomplete: 'off',
    placeholder: 'USCC 统一社会信用代码 or ID number 身份证号', oninput: () => { subjectIn.dataset.masked = ''; } });
  const clientIn = h('input', { type: 'text', id: 'audit-client', spellcheck: 'false', placeholder: 'portal-demo' });
  const sinceIn = h('input', { type: 'datetime-local', id: 'audit-since', step: 1 });
  const untilIn = h('input', { type: 'datetime-local', id: 'audit-until', step: 1 });
  const limitSel = h('select', { id: 'audit-limit' }, [50, 100, 500, 1000].map((n) => h('option', { value: n }, String(n))));
  limitSel.value = '100';
  const summary = h('div', { class: 'muted small', id: 'audit-summary' });
  const body = h('tbody');

  const quick = (label, hours) => h('button', { class: 'btn btn-sm', type: 'button', onclick: () => {
    sinceIn.value = local(new Date(Date.now() - hours * 3600e3));
    untilIn.value = '';
    search();
  } }, label);

  const form = h('form', { class: 'filters', id: 'audit-form', onsubmit: (e) => { e.preventDefault(); search(); } },
    h('label', { class: 'field grow' }, bi('主体', 'Subject'), subjectIn),
    h('label', { class: 'field' }, bi('客户端', 'Client'), clientIn),
    h('label', { class: 'field' }, bi('起始', 'Since'), sinceIn),
    h('label', { class: 'field' }, bi('截止', 'Until'), untilIn),
    h('label', { class: 'field' }, bi('条数', 'Limit'), limitSel),
    h('div', { class: 'btn-row' },
      h('button', { class: 'btn btn-primary', type: 'submit', id: 'audit-search' }, bi('查询', 'Search')),
      quick('1h', 1), quick('24h', 24), quick('7d', 24 * 7)));

  replace(view,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, bi('审计查询', 'Audit search')),
      h('div', { class: 'sub muted small' }, 'Every verification, screening and admin action, newest first'))),
    h('section', { class: 'panel' }, form,
      h('div', { class: 'panel-body' }, summary),
      h('div', { class: 'table-scroll' }, h('table', { class: 'data', id: 'audit-table' },
        h('thead', null, h('tr', null, h('th', null, 'Time 时间'), h('th', null, 'Action 操作'), h('th', null, 'Client 客户端'),
          h('th', null, 'Subject 主体'), h('th', null, 'Program 政策'), h('th', null, 'Decision 结论'), h('th', { class: 'num' }, 'Amount 金额'),
          h('th', null, 'Detail'), h('th', null, 'Request'))),
        body))));

  async function search() {
    const typed = subjectIn.value.trim();
    if (!subjectIn.dataset.masked) rawSubject = typed;
    if (looksLikeID(rawSubject)) {
      // Show only the masked form from now on; resubmitting reuses the raw value.
      subjectIn.value = maskID(rawSubject.toUpperCase());
      subjectIn.dataset.masked = '1';
    }
    searching = true;
    render();
    try {
      const res = await api('/v1/admin/audit', { query: {
        subject: rawSubject, client: clientIn.value.trim(), since: iso(sinceIn.value), until: iso(untilIn.value), limit: limitSel.value,
      } });
      results = res.events || [];
      error = null;
    } catch (e) {
      error = e;
      results = null;
    }
    searching = false;
    render();
  }

  function render() {
    const subj = rawSubject ? (looksLikeID(rawSubject) ? maskID(rawSubject.toUpperCase()) + ' (ID number, pseudonymised for the search)' : rawSubject) : 'any subject';
    replace(summary, searching ? 'Searching…' : results === null && !error ? 'Search by subject, client or time range. 按主体、客户端或时间查询。'
      : error ? h('div', { class: 'error-box' }, `${error.code}: ${maskIDs(error.message)}`)
        : `${num(results.length)} event(s) · ${subj}${clientIn.value.trim() ? ' · client ' + clientIn.value.trim() : ''}`);
    if (!results) { replace(body); return; }
    replace(body, results.length ? results.map((e) => h('tr', null,
      h('td', { class: 'nowrap' }, when(e.time)),
      h('td', null, h('span', { class: 'pill' }, e.action)),
      h('td', null, e.client),
      h('td', { class: 'mono', title: maskIDs(e.subject || '') }, short(maskIDs(e.subject || '—'))),
      h('td', null, e.program || '—'),
      h('td', null, e.decision ? badge(e.decision) : '—'),
      h('td', { class: 'num' }, e.amount_fen ? yuan(e.amount_fen) : '—'),
      h('td', { class: 'small' }, maskIDs([e.detail, e.params ? JSON.stringify(e.params) : ''].filter(Boolean).join(' '))),
      h('td', { class: 'mono small', title: e.request_id || '' }, (e.request_id || '').slice(0, 8))))
      : h('tr', null, h('td', { colspan: 9, class: 'empty' }, 'No events match 无匹配记录')));
  }

  render();
  return { update() {} };
}

function short(s) {
  return s.length > 40 ? s.slice(0, 24) + '…' + s.slice(-8) : s;
}

function iso(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

function local(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
