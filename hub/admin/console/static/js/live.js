// Live state: the connectors, the pipeline and the traffic summary, polled every few
// seconds while the console is open. Successive polls give the per-connector
// records/min series the sparklines draw.

import { api } from './api.js';

export const POLL_MS = 3000;
const KEEP = 60; // samples kept per series (3 minutes at 3s)

export const live = {
  connectors: [],
  pipeline: null,
  summary: null,
  history: new Map(), // connector name → [{t, read, published, rejected}]
  lagHistory: [], // [{t, lag}]
  errors: {}, // source → ApiError of the last failed poll
  lastOK: 0,
};

const subscribers = new Set();
export function subscribe(fn) { subscribers.add(fn); return () => subscribers.delete(fn); }

function push(list, v) {
  list.push(v);
  if (list.length > KEEP) list.splice(0, list.length - KEEP);
}

let timer = null;
let running = false;

export async function pollOnce() {
  const t = Date.now();
  const [conns, pipe, sum] = await Promise.allSettled([
    api('/v1/admin/connectors'), api('/v1/admin/pipeline'), api('/admin/api/summary'),
  ]);
  live.errors = {};
  if (conns.status === 'fulfilled') {
    live.connectors = conns.value.connectors || [];
    for (const c of live.connectors) {
      if (!live.history.has(c.name)) live.history.set(c.name, []);
      push(live.history.get(c.name), { t, read: c.records_read, published: c.published, rejected: c.rejected });
    }
  } else live.errors.connectors = conns.reason;
  if (pipe.status === 'fulfilled') {
    live.pipeline = pipe.value;
    push(live.lagHistory, { t, lag: pipe.value.lag });
  } else live.errors.pipeline = pipe.reason;
  if (sum.status === 'fulfilled') live.summary = sum.value;
  else live.errors.summary = sum.reason;
  if (Object.keys(live.errors).length < 3) live.lastOK = t;
  subscribers.forEach((fn) => fn(live));
}

// ratePerMinute turns a connector's samples into records/min between polls.
export function ratePerMinute(name, field = 'read') {
  const hs = live.history.get(name) || [];
  const out = [];
  for (let i = 1; i < hs.length; i++) {
    const dt = (hs[i].t - hs[i - 1].t) / 60000;
    const dv = hs[i][field] - hs[i - 1][field];
    out.push(dt > 0 && dv >= 0 ? dv / dt : null);
  }
  return out;
}

export function start() {
  if (running) return;
  running = true;
  const loop = async () => {
    if (!running) return;
    if (document.visibilityState !== 'hidden') {
      try { await pollOnce(); } catch { /* reported through live.errors */ }
    }
    if (running) timer = setTimeout(loop, POLL_MS);
  };
  loop();
}

export function stop() {
  running = false;
  clearTimeout(timer);
}
