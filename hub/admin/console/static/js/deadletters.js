// Dead letters: rejected records kept with their reason, filtered by agency, code and
// status; inspect one, replay or purge (after confirmation). The API masks ID numbers
// in records and messages; maskIDs here is a second guard.

import { h, replace, bi, badge, when, ago, toast, confirmDialog, maskIDs } from './dom.js';
import { api } from './api.js';

const AGENCIES = ['si', 'tax', 'cert', 'env', 'credit', 'grant'];

export function deadLetters(view) {
  const f = { agency: '', code: '', status: 'pending' };
  let items = [];
  let next = '';
  let paged = false; // "load more" pauses the live refresh of the first page
  let selected = null; // id shown in the inspector
  const checked = new Set();
  let error = null;
  let loading = false;

  const agencySel = h('select', { id: 'dl-agency', onchange: () => { f.agency = agencySel.value; reload(); } },
    h('option', { value: '' }, 'All agencies 全部'), AGENCIES.map((a) => h('option', { value: a }, a)));
  const codeIn = h('input', { type: 'search', id: 'dl-code', placeholder: 'e.g. uscc_checksum', spellcheck: 'false',
    onchange: () => { f.code = codeIn.value.trim(); reload(); } });
  const statusSel = h('select', { id: 'dl-status', onchange: () => { f.status = statusSel.value; reload(); } },
    h('option', { value: 'pending' }, 'Pending 待处理'), h('option', { value: 'replayed' }, 'Replayed 已重放'),
    h('option', { value: 'purged' }, 'Purged 已清除'), h('option', { value: '' }, 'Any status 全部'));
  statusSel.value = 'pending';
  const bulk = h('div', { class: 'btn-row' });
  const body = h('tbody');
  const foot = h('div', { class: 'foot-note' });
  const inspector = h('section', { class: 'panel sticky', id: 'dl-inspector' });

  replace(view,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, bi('死信', 'Dead letters')),
      h('div', { class: 'sub muted small' }, 'Records refused by validation, kept until replayed or purged')), bulk),
    h('div', { class: 'split' },
      h('section', { class: 'panel' },
        h('div', { class: 'filters' },
          h('label', { class: 'field' }, bi('机构', 'Agency'), agencySel),
          h('label', { class: 'field grow' }, bi('拒收代码', 'Reject code'), codeIn),
          h('label', { class: 'field' }, bi('状态', 'Status'), statusSel),
          h('button', { class: 'btn', type: 'button', onclick: () => reload() }, bi('刷新', 'Refresh'))),
        h('div', { class: 'table-scroll' }, h('table', { class: 'data', id: 'dl-table' },
          h('thead', null, h('tr', null, h('th', null, ''), h('th', null, 'Time 时间'), h('th', null, 'Agency'), h('th', null, 'Code · field 代码'),
            h('th', null, 'Message 原因'), h('th', null, 'Status'))),
          body)),
        h('div', { class: 'panel-body' }, foot)),
      inspector));

  async function load(cursor) {
    loading = true;
    try {
      const res = await api('/v1/admin/deadletters', { query: { agency: f.agency, code: f.code, status: f.status, cursor, limit: 100 } });
      error = null;
      const got = res.deadletters || [];
      items = cursor ? items.concat(got) : got;
      next = res.next || '';
    } catch (e) {
      error = e;
    }
    loading = false;
    render();
  }

  function reload() {
    paged = false;
    checked.clear();
    load('');
  }

  async function act(action, ids) {
    const zh = action === 'replay' ? '重放' : '清除';
    const what = ids.length === 1 ? `dead letter ${ids[0]}` : `${ids.length} dead letters`;
    const ok = await confirmDialog(`${zh} ${action === 'replay' ? 'Replay' : 'Purge'} ${what}?`,
      action === 'replay'
        ? h('p', null, 'The record is validated again and, if it passes now, published to the bus. 记录将重新校验，通过后重新发布。')
        : h('p', null, 'The dead letter is marked purged and leaves the pending list; the topic keeps it until retention. 清除后不再显示于待处理列表。'),
      action === 'replay' ? 'Replay 重放' : 'Purge 清除');
    if (!ok) return;
    try {
      const res = await api('/v1/admin/deadletters/' + action, { method: 'POST', body: { ids } });
      const counts = {};
      for (const r of res.results || []) counts[r.outcome] = (counts[r.outcome] || 0) + 1;
      const again = (res.results || []).find((r) => r.outcome === 'rejected_again');
      toast(`${action}: ` + Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') + (again ? ` — ${again.code}: ${again.message}` : ''),
        again ? 'bad' : 'ok');
      checked.clear();
      await load('');
    } catch (e) {
      toast(`${action}: ${e.message}`, 'bad');
    }
  }

  function render() {
    replace(bulk,
      h('span', { class: 'muted small' }, checked.size ? `${checked.size} selected 已选` : ''),
      h('button', { class: 'btn', type: 'button', id: 'dl-replay-selected', disabled: !checked.size, onclick: () => act('replay', [...checked]) }, bi('重放所选', 'Replay selected')),
      h('button', { class: 'btn btn-danger', type: 'button', id: 'dl-purge-selected', disabled: !checked.size, onclick: () => act('purge', [...checked]) }, bi('清除所选', 'Purge selected')));

    if (error) replace(body, h('tr', null, h('td', { colspan: 6 }, h('div', { class: 'error-box' }, `${error.code}: ${error.message}`))));
    else if (!items.length) replace(body, h('tr', null, h('td', { colspan: 6, class: 'empty' }, loading ? 'Loading…' : 'No dead letters match 无匹配死信')));
    else replace(body, items.map((d) => h('tr', { class: 'clickable' + (d.id === selected ? ' selected' : ''), dataset: { id: d.id, code: d.code, agency: d.agency, field: d.field || '' },
      onclick: (e) => { if (e.target.type !== 'checkbox') { selected = d.id; render(); } } },
      h('td', null, h('input', { type: 'checkbox', 'aria-label': 'select ' + d.id, checked: checked.has(d.id) || undefined,
        onchange: (e) => { if (e.target.checked) checked.add(d.id); else checked.delete(d.id); render(); } })),
      h('td', { class: 'nowrap small', title: when(d.time) }, when(d.time).slice(5)),
      h('td', null, h('span', { class: 'pill' }, d.agency)),
      h('td', null, h('span', { class: 'pill code-pill' }, d.code), d.field ? h('div', { class: 'mono muted small' }, d.field) : null),
      h('td', { class: 'msg' }, maskIDs(d.message)),
      h('td', null, badge(d.status)))));
    replace(foot, `${items.length} shown 已显示`, next ? ' · ' : '',
      next ? h('button', { class: 'btn btn-sm', type: 'button', onclick: () => { paged = true; load(next); } }, bi('加载更多', 'Load more')) : null,
      paged ? h('span', { class: 'muted' }, ' · live refresh paused while paging') : null);

    const d = items.find((x) => x.id === selected);
    if (!d) {
      replace(inspector, h('div', { class: 'panel-head' }, h('h2', null, bi('详情', 'Inspect'))),
        h('div', { class: 'empty' }, 'Select a dead letter to see its record and rejection. 选择一条死信查看详情。'));
      return;
    }
    replace(inspector,
      h('div', { class: 'panel-head' }, h('h2', null, bi('详情', 'Inspect'), ' ', h('span', { class: 'mono muted' }, d.id)), badge(d.status)),
      h('div', { class: 'panel-body' },
        h('dl', { class: 'kv' },
          h('dt', null, 'Rejection 拒收'), h('dd', null, h('span', { class: 'pill code-pill', id: 'dl-code-shown' }, d.code)),
          h('dt', null, 'Field 字段'), h('dd', { class: 'mono' }, d.field || '—'),
          h('dt', null, 'Message 原因'), h('dd', null, maskIDs(d.message)),
          h('dt', null, 'Agency 机构'), h('dd', null, d.agency),
          h('dt', null, 'Received 时间'), h('dd', null, `${when(d.time)} (${ago(d.time)})`)),
        h('div', { class: 'foot-note' }, 'Record 记录 (ID numbers masked)'),
        h('pre', { class: 'record', id: 'dl-record' }, pretty(d.record)),
        h('div', { class: 'btn-row section-gap' },
          h('button', { class: 'btn btn-primary', type: 'button', id: 'dl-replay', disabled: d.status !== 'pending', onclick: () => act('replay', [d.id]) }, bi('重放', 'Replay')),
          h('button', { class: 'btn btn-danger', type: 'button', id: 'dl-purge', disabled: d.status !== 'pending', onclick: () => act('purge', [d.id]) }, bi('清除', 'Purge')))));
  }

  reload();
  return {
    update() { if (!paged && !loading && document.getElementById('modal').hidden) load(''); },
  };
}

function pretty(rec) {
  try { return maskIDs(JSON.stringify(JSON.parse(rec), null, 2)); } catch { return maskIDs(rec); }
}
