// Programs: the loaded rule packs with their parameters and checks, and the last
// screening (免申即享) of each.

import { h, replace, bi, num, when, ago, yuan } from './dom.js';
import { api } from './api.js';

export function programs(view) {
  const list = h('section', { class: 'panel', id: 'programs-list' });
  replace(view,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, bi('政策包', 'Programs')),
      h('div', { class: 'sub muted small' }, 'Rule packs loaded at start (CEL checks and amount formulas), with region overrides'))),
    list);
  let data = null;
  let error = null;

  async function load() {
    try {
      data = await api('/v1/programs');
      error = null;
    } catch (e) {
      error = e;
    }
    render();
  }

  function render() {
    if (error) { replace(list, h('div', { class: 'panel-body' }, h('div', { class: 'error-box' }, `${error.code}: ${error.message}`))); return; }
    if (!data) { replace(list, h('div', { class: 'empty' }, 'Loading…')); return; }
    const last = data.last_screening || {};
    replace(list, data.programs.map((p) => {
      const ls = last[p.id];
      return h('div', { class: 'program-card', dataset: { program: p.id } },
        h('div', { class: 'program-title' },
          h('h2', { class: 'mono' }, p.id), h('span', null, p.title.zh), h('span', { class: 'en' }, p.title.en),
          h('span', { class: 'badge info' }, p.subject_kind === 'person' ? '个人 person' : '企业 enterprise')),
        h('div', { class: 'program-meta' },
          h('span', null, '依据 Legal basis: ', p.legal_basis || '—'),
          h('span', null, `${p.checks.length} checks`),
          h('span', null, `${p.parameters.length} parameters`),
          h('span', null, 'Last screening 最近筛查: ', ls
            ? `${when(ls.at)} (${ago(ls.at)}) · ${num(ls.candidates)} candidates · ${yuan(ls.total_amount_fen)} · ${num(ls.review_required)} for review · ${ls.duration_ms} ms`
            : 'none since start')),
        h('details', null, h('summary', null, 'Parameters and checks 参数与检查项'),
          h('div', { class: 'grid cols-2' },
            h('table', { class: 'data' },
              h('thead', null, h('tr', null, h('th', null, 'Parameter'), h('th', null, 'Default'), h('th', null, 'Regions / data years'))),
              h('tbody', null, p.parameters.map((prm) => h('tr', null,
                h('td', null, h('div', { class: 'mono' }, prm.name), h('div', { class: 'muted small' }, prm.description.zh || prm.description.en || '')),
                h('td', { class: 'mono' }, fmt(prm.default)),
                h('td', { class: 'mono small' }, [prm.regions ? 'regions ' + fmt(prm.regions) : '', prm.data_years ? 'years ' + fmt(prm.data_years) : ''].filter(Boolean).join(' · ') || '—'))))),
            h('table', { class: 'data' },
              h('thead', null, h('tr', null, h('th', null, 'Check'), h('th', null, 'Title'))),
              h('tbody', null, p.checks.map((c) => h('tr', null, h('td', { class: 'mono' }, c.id), h('td', null, c.title.zh, ' ', h('span', { class: 'en' }, c.title.en)))))))),
        p.params.length ? h('div', { class: 'foot-note' }, 'Request params: ', p.params.map((x) => `${x.name}${x.required ? '*' : ''} (${x.type})`).join(', ')) : null);
    }));
  }

  load();
  let n = 0;
  return { update() { if (++n % 5 === 0) load(); } };
}

function fmt(v) {
  if (v === undefined || v === null) return '—';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
