// Connectors: the list, and one connector's detail with pause, resume and sync.

import { h, replace, bi, badge, num, ago, when, isZeroTime, durationMS, toast, fixed, maskIDs } from './dom.js';
import { sparkline } from './charts.js';
import { api } from './api.js';
import { live, ratePerMinute, pollOnce } from './live.js';

// connectorAction posts pause|resume|sync and refreshes the live state at once.
export async function connectorAction(name, action) {
  const st = await api(`/v1/admin/connectors/${encodeURIComponent(name)}/${action}`, { method: 'POST' });
  const i = live.connectors.findIndex((c) => c.name === name);
  if (i >= 0 && st) live.connectors[i] = st;
  toast(`${name}: ${action} ✓`, 'ok');
  await pollOnce().catch(() => {});
  return st;
}

export function connectorList(view) {
  const body = h('tbody');
  replace(view,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, bi('连接器', 'Connectors')),
      h('div', { class: 'sub muted small' }, 'Pull connectors to the agencies\' record APIs'))),
    h('section', { class: 'panel' }, h('div', { class: 'panel-body flush table-scroll' },
      h('table', { class: 'data' }, h('thead', null, h('tr', null,
        h('th', null, 'Connector'), h('th', null, 'Agency'), h('th', null, 'State'), h('th', null, 'Last success'), h('th', null, 'Last error'),
        h('th', { class: 'num' }, 'Published'), h('th', { class: 'num' }, 'Rejected'), h('th', { class: 'num' }, 'Retries'), h('th', { class: 'num' }, 'Restarts'))),
      body))));
  function render() {
    replace(body, live.connectors.length ? live.connectors.map((c) => h('tr', { class: 'clickable', onclick: () => { location.hash = '#/connectors/' + encodeURIComponent(c.name); } },
      h('td', null, h('a', { href: '#/connectors/' + encodeURIComponent(c.name) }, c.name)),
      h('td', null, h('span', { class: 'pill' }, c.agency)),
      h('td', null, badge(c.state)),
      h('td', { title: when(c.last_success) }, ago(c.last_success)),
      h('td', { class: 'small', title: maskIDs(c.last_error || '') }, c.last_error ? truncate(maskIDs(c.last_error), 70) + ' · ' + ago(c.last_error_at) : '—'),
      h('td', { class: 'num' }, num(c.published)), h('td', { class: 'num' }, num(c.rejected)),
      h('td', { class: 'num' }, num(c.pages_retried)), h('td', { class: 'num' }, num(c.restarts))))
      : h('tr', null, h('td', { colspan: 9, class: 'empty' }, live.errors.connectors ? live.errors.connectors.message : 'No connectors configured')));
  }
  render();
  return { update: render };
}

export function connectorDetail(view, name) {
  const head = h('div', { class: 'page-head' });
  const body = h('div');
  replace(view, h('div', { class: 'crumbs' }, h('a', { href: '#/connectors' }, '连接器 Connectors'), ' / ', name), head, body);
  let busy = false;

  async function act(action) {
    if (busy) return;
    busy = true;
    render();
    try { await connectorAction(name, action); } catch (e) { toast(`${action} ${name}: ${e.message}`, 'bad'); }
    busy = false;
    render();
  }

  function render() {
    const c = live.connectors.find((x) => x.name === name);
    if (!c) {
      replace(head, h('h1', null, name));
      replace(body, h('section', { class: 'panel' }, h('div', { class: 'empty' }, live.connectors.length ? 'No connector named ' + name : 'Loading…')));
      return;
    }
    const paused = c.state === 'paused';
    replace(head,
      h('div', null, h('h1', { id: 'connector-name' }, c.name, ' ', badge(c.state)), h('div', { class: 'sub muted small' }, `agency ${c.agency} · records pulled into the hub's ingest edge`)),
      h('div', { class: 'btn-row' },
        paused
          ? h('button', { class: 'btn btn-ok', id: 'btn-resume', type: 'button', disabled: busy, onclick: () => act('resume') }, bi('恢复', 'Resume'))
          : h('button', { class: 'btn btn-warn', id: 'btn-pause', type: 'button', disabled: busy, onclick: () => act('pause') }, bi('暂停', 'Pause')),
        h('button', { class: 'btn btn-primary', id: 'btn-sync', type: 'button', disabled: busy || paused, onclick: () => act('sync') }, bi('立即同步', 'Sync now'))));

    const errorIsCurrent = c.last_error && (isZeroTime(c.last_success) || Date.parse(c.last_error_at) > Date.parse(c.last_success));
    const cursors = Object.entries(c.cursor || {}).sort();
    replace(body,
      c.last_error ? h('div', { class: (errorIsCurrent ? 'error-box' : 'warn-box') + ' mb', id: 'connector-error' },
        h('strong', null, errorIsCurrent ? '当前故障 Current fault: ' : '最近错误（已恢复） Last error, recovered since: '),
        maskIDs(c.last_error), h('span', { class: 'small' }, ` — ${when(c.last_error_at)} (${ago(c.last_error_at)})`)) : null,
      h('div', { class: 'grid cols-3' },
        h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', null, bi('状态', 'Status'))),
          h('div', { class: 'panel-body' }, h('dl', { class: 'kv' },
            h('dt', null, 'State'), h('dd', null, badge(c.state)),
            h('dt', null, 'Last success'), h('dd', null, `${when(c.last_success)} (${ago(c.last_success)})`),
            h('dt', null, 'Last fetch latency'), h('dd', null, durationMS(c.last_latency_ns)),
            h('dt', null, 'Next restart'), h('dd', null, isZeroTime(c.next_restart) ? '—' : `${when(c.next_restart)} (${ago(c.next_restart)})`),
            h('dt', null, 'Lag (agency says)'), h('dd', null, c.lag < 0 ? 'not reported' : num(c.lag) + ' records')))),
        h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', null, bi('计数', 'Counters'))),
          h('div', { class: 'panel-body' }, h('dl', { class: 'kv', id: 'connector-counters' },
            h('dt', null, 'Records read'), h('dd', null, num(c.records_read)),
            h('dt', null, 'Published'), h('dd', null, num(c.published)),
            h('dt', null, 'Rejected'), h('dd', null, num(c.rejected)),
            h('dt', null, 'Warnings'), h('dd', null, num(c.warnings)),
            h('dt', null, 'Pages retried'), h('dd', null, num(c.pages_retried)),
            h('dt', null, 'Restarts'), h('dd', null, num(c.restarts))))),
        h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', null, bi('吞吐', 'Throughput')), h('span', { class: 'muted small' }, 'records/min')),
          h('div', { class: 'panel-body' },
            sparkline(ratePerMinute(name), { width: 380, height: 70, title: 'records read per minute' }),
            h('div', { class: 'foot-note' }, 'read per minute between polls · rejected ',
              fixed(last(ratePerMinute(name, 'rejected')) ?? 0, 0), '/min')))),
      h('section', { class: 'panel section-gap' }, h('div', { class: 'panel-head' }, h('h2', null, bi('游标', 'Cursors')), h('span', { class: 'muted small' }, 'stored durably; never past an unpublished page')),
        h('div', { class: 'panel-body flush' }, h('table', { class: 'data', id: 'connector-cursors' },
          h('thead', null, h('tr', null, h('th', null, 'Record type'), h('th', null, 'Cursor'))),
          h('tbody', null, cursors.length ? cursors.map(([t, cur]) => h('tr', null, h('td', { class: 'mono' }, t), h('td', { class: 'mono' }, cur || '(start)')))
            : h('tr', null, h('td', { colspan: 2, class: 'empty' }, 'No cursor stored yet')))))));
  }
  render();
  return { update: render };
}

function last(a) { return a.length ? a[a.length - 1] : null; }
function truncate(s, n) { return s.length > n ? s.slice(0, n) + '…' : s; }
