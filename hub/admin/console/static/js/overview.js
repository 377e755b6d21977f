// Overview: every connector as a row, the matcher's lag and profile counts, and the
// verification traffic of the last hour.

import { h, replace, bi, badge, num, fixed, ago, when, isZeroTime, toast } from './dom.js';
import { sparkline, bars, hbar } from './charts.js';
import { live, ratePerMinute } from './live.js';
import { connectorAction } from './connectors.js';

export function overview(view) {
  const kpis = h('div', { class: 'grid kpis' });
  const connBody = h('tbody');
  const connPanel = h('section', { class: 'panel', id: 'connectors-panel' },
    h('div', { class: 'panel-head' }, h('h2', null, bi('连接器', 'Connectors')), h('span', { class: 'muted small', id: 'conn-count' })),
    h('div', { class: 'panel-body flush table-scroll' },
      h('table', { class: 'data', id: 'connectors-table' },
        h('thead', null, h('tr', null,
          h('th', null, 'Connector'), h('th', null, 'State 状态'), h('th', null, 'Last success 最近成功'),
          h('th', null, 'Records/min 记录/分'), h('th', { class: 'num' }, 'Read'), h('th', { class: 'num' }, 'Published'),
          h('th', { class: 'num' }, 'Rejects 拒收'), h('th', { class: 'num' }, 'Lag 积压'), h('th', null, ''))),
        connBody)));
  const pipeBody = h('div', { class: 'panel-body' });
  const pipePanel = h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', null, bi('匹配管道', 'Matching pipeline')), h('span', { class: 'muted small', id: 'pipe-group' })),
    pipeBody);
  const trafficBody = h('div', { class: 'panel-body' });
  const trafficPanel = h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', null, bi('核验流量', 'Verification traffic')), h('span', { class: 'muted small', id: 'traffic-window' })),
    trafficBody);
  const routesBody = h('tbody');
  const routesPanel = h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', null, bi('接口延迟', 'API latency by route')), h('span', { class: 'muted small' }, 'window as above')),
    h('div', { class: 'panel-body flush table-scroll' },
      h('table', { class: 'data' },
        h('thead', null, h('tr', null, h('th', null, 'Route'), h('th', { class: 'num' }, 'Requests'), h('th', { class: 'num' }, '/min'),
          h('th', { class: 'num' }, 'p50 ms'), h('th', { class: 'num' }, 'p99 ms'), h('th', null, 'p99'), h('th', { class: 'num' }, '4xx'), h('th', { class: 'num' }, '5xx'))),
        routesBody)));

  replace(view,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, bi('运行概览', 'Overview')),
      h('div', { class: 'sub muted small' }, 'Connectors, pipeline and verification traffic · refreshed every few seconds'))),
    kpis, connPanel,
    h('div', { class: 'grid cols-2 section-gap' }, trafficPanel, pipePanel),
    routesPanel);

  function kpi(label, value, unit, foot, cls = '', chart) {
    return h('div', { class: 'panel kpi ' + cls },
      h('div', { class: 'kpi-label' }, label),
      h('div', { class: 'kpi-value' }, value, unit ? h('span', { class: 'unit' }, unit) : null),
      h('div', { class: 'kpi-foot' }, h('span', null, foot), chart || null));
  }

  function render() {
    const cs = live.connectors;
    const running = cs.filter((c) => c.state === 'running').length;
    const failed = cs.filter((c) => c.state === 'failed').length;
    const p = live.pipeline;
    const v = live.summary && live.summary.verification;
    const totalRejects = cs.reduce((a, c) => a + (c.rejected || 0), 0);
    replace(kpis,
      kpi(bi('连接器运行', 'Connectors running'), `${running}/${cs.length}`, '', failed ? `${failed} failed` : 'none failed', failed ? 'bad' : ''),
      kpi(bi('总线积压', 'Bus consumer lag'), p ? num(p.lag) : '—', 'msgs', p ? 'group ' + p.group : (live.errors.pipeline ? 'unavailable' : ''),
        p && p.lag > 1000 ? 'warn' : '', sparkline(live.lagHistory.map((x) => x.lag), { width: 90, height: 26, title: 'consumer lag' })),
      kpi(bi('企业画像', 'Enterprise profiles'), p ? num(p.profiles.enterprise) : '—', '', 'USCC subjects'),
      kpi(bi('个人画像', 'Person profiles'), p ? num(p.profiles.person) : '—', '', 'pseudonymised subjects'),
      kpi(bi('核验速率', 'Verifications'), v ? fixed(v.per_minute, 1) : '—', '/min', v ? `${num(v.requests)} in window` : '',
        '', sparkline((live.summary && live.summary.series || []).map((x) => x.per_minute), { width: 90, height: 26, title: 'verifications/min' })),
      kpi(bi('核验 p99', 'Verification p99'), v && v.p99_ms !== null ? fixed(v.p99_ms, 1) : '—', 'ms', v && v.p50_ms !== null ? `p50 ${fixed(v.p50_ms, 1)} ms` : 'no requests in window',
        v && v.p99_ms > 500 ? 'warn' : ''),
      kpi(bi('连接器拒收', 'Connector rejects'), num(totalRejects), '', 'see Dead letters', totalRejects ? 'warn' : ''),
    );

    document.getElementById('conn-count').textContent = live.errors.connectors ? 'unavailable: ' + live.errors.connectors.message : `${cs.length} configured`;
    replace(connBody, cs.length ? cs.map(connectorRow) : h('tr', null, h('td', { colspan: 9, class: 'empty' }, 'No connectors configured 未配置连接器')));

    if (p) {
      document.getElementById('pipe-group').textContent = 'group ' + p.group;
      const parts = (p.partitions || []);
      replace(pipeBody,
        h('dl', { class: 'kv' },
          h('dt', null, 'Total lag 总积压'), h('dd', null, num(p.lag) + ' messages'),
          h('dt', null, 'Profiles 画像'), h('dd', null, `${num(p.profiles.enterprise)} enterprises · ${num(p.profiles.person)} persons`),
          h('dt', null, 'Partitions'), h('dd', null, String(parts.length))),
        parts.length ? h('div', { class: 'foot-note' }, 'Lag by agency topic 各主题积压') : null,
        parts.length ? bars(byTopic(parts), { height: 110 }) : null,
        parts.length && parts.every((x) => !x.lag) ? h('div', { class: 'foot-note' }, 'All partitions caught up 已追平') : null);
    } else {
      replace(pipeBody, h('div', { class: 'muted' }, live.errors.pipeline ? 'Pipeline state unavailable: ' + live.errors.pipeline.message : 'Loading…'));
    }

    const sum = live.summary;
    if (sum) {
      document.getElementById('traffic-window').textContent = 'last ' + windowText(sum.window_seconds);
      replace(trafficBody,
        h('dl', { class: 'kv' },
          h('dt', null, 'Requests 请求'), h('dd', null, `${num(v.requests)} (${fixed(v.per_minute, 2)}/min; ${num(v.all_time_requests)} since start)`),
          h('dt', null, 'Latency 延迟'), h('dd', null, v.requests ? `p50 ${fixed(v.p50_ms, 1)} ms · p99 ${fixed(v.p99_ms, 1)} ms · mean ${fixed(v.mean_ms, 1)} ms` : 'no verification requests in the window'),
          h('dt', null, 'Errors 错误'), h('dd', null, `${num(v.errors_4xx)} client (4xx) · ${num(v.errors_5xx)} server (5xx)`)),
        h('div', { class: 'foot-note' }, 'Verifications per minute between samples 每分钟核验量'),
        bars(sum.series.slice(-40).map((x) => ({ label: '', value: Math.round(x.per_minute * 10) / 10, title: `${when(x.at)}: ${fixed(x.per_minute, 2)}/min` })), { height: 90, unit: '/min' }),
        h('div', { class: 'foot-note' }, 'Single and batch verification calls; a batch counts once. From the hub\'s Prometheus histograms, sampled by the hub.'));
      const routes = [...sum.routes].sort((a, b) => b.requests - a.requests);
      const maxP99 = Math.max(1, ...routes.map((r) => r.p99_ms || 0));
      replace(routesBody, routes.map((r) => h('tr', null,
        h('td', { class: 'mono' }, r.route), h('td', { class: 'num' }, num(r.requests)), h('td', { class: 'num' }, fixed(r.per_minute, 2)),
        h('td', { class: 'num' }, r.p50_ms === null ? '—' : fixed(r.p50_ms, 1)), h('td', { class: 'num' }, r.p99_ms === null ? '—' : fixed(r.p99_ms, 1)),
        h('td', null, h('div', { class: 'hbar' }, h('div', { class: 'hbar-track' }, hbar(r.p99_ms || 0, maxP99, r.p99_ms > 500 ? 'hot' : '')))),
        h('td', { class: 'num' }, num(r.errors_4xx)), h('td', { class: 'num' }, num(r.errors_5xx)))));
    } else {
      replace(trafficBody, h('div', { class: 'muted' }, live.errors.summary ? 'Traffic summary unavailable: ' + live.errors.summary.message : 'Loading…'));
    }
  }

  render();
  return { update: render };
}

function shortTopic(t) {
  return String(t).replace(/^.*\.records\.([^.]+)\.v\d+$/, '$1');
}

// byTopic sums partition lag per topic, one bar per agency.
function byTopic(parts) {
  const m = new Map();
  for (const x of parts) {
    const e = m.get(x.topic) || { lag: 0, n: 0 };
    e.lag += x.lag || 0;
    e.n++;
    m.set(x.topic, e);
  }
  return [...m].map(([topic, e]) => ({ label: shortTopic(topic), value: e.lag, cls: e.lag > 1000 ? 'hot' : '',
    title: `${topic}: lag ${e.lag} over ${e.n} partition(s)` }));
}

function windowText(sec) {
  if (sec < 90) return Math.round(sec) + ' s';
  if (sec < 5400) return Math.round(sec / 60) + ' min';
  return (sec / 3600).toFixed(1) + ' h';
}

function connectorRow(c) {
  const rates = ratePerMinute(c.name);
  const current = rates.length ? rates[rates.length - 1] : null;
  const errorIsCurrent = c.last_error && !isZeroTime(c.last_error_at) && (isZeroTime(c.last_success) || Date.parse(c.last_error_at) > Date.parse(c.last_success));
  const paused = c.state === 'paused';
  return h('tr', { class: 'clickable', dataset: { connector: c.name }, onclick: (e) => { if (!e.target.closest('button')) location.hash = '#/connectors/' + encodeURIComponent(c.name); } },
    h('td', null, h('a', { href: '#/connectors/' + encodeURIComponent(c.name) }, c.name), ' ', h('span', { class: 'pill' }, c.agency)),
    h('td', null, badge(c.state), errorIsCurrent ? h('span', { class: 'small', title: c.last_error }, ' ⚠') : null),
    h('td', { class: 'nowrap', title: when(c.last_success) }, ago(c.last_success)),
    h('td', { class: 'nowrap' }, h('div', { class: 'hbar' }, sparkline(rates, { width: 100, height: 24, title: 'records/min' }),
      h('span', { class: 'num small' }, current === null ? '' : fixed(current, 0)))),
    h('td', { class: 'num' }, num(c.records_read)),
    h('td', { class: 'num' }, num(c.published)),
    h('td', { class: 'num' }, c.rejected ? h('span', { class: 'pill code-pill' }, num(c.rejected)) : '0'),
    h('td', { class: 'num' }, c.lag < 0 ? '—' : num(c.lag)),
    h('td', { class: 'num' },
      h('button', { class: 'btn btn-sm ' + (paused ? 'btn-ok' : 'btn-warn'), type: 'button', dataset: { action: paused ? 'resume' : 'pause', connector: c.name },
        onclick: async (e) => {
          e.target.closest('button').disabled = true;
          try { await connectorAction(c.name, paused ? 'resume' : 'pause'); } catch (err) { toast(err.message, 'bad'); }
        } }, paused ? 'Resume 恢复' : 'Pause 暂停')));
}
