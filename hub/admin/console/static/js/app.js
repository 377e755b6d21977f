// The console's entry point: session bootstrap, login, the hash router and the live
// refresh loop.

import { h, replace, toast } from './dom.js';
import { api, setSession, getSession, onUnauthenticated } from './api.js';
import { readKey, login, renew, forget, holdsKey } from './login.js';
import { live, subscribe, start, stop, POLL_MS } from './live.js';
import { overview } from './overview.js';
import { connectorList, connectorDetail } from './connectors.js';
import { deadLetters } from './deadletters.js';
import { audit } from './audit.js';
import { programs } from './programs.js';

const $ = (id) => document.getElementById(id);
let page = null;
let renewTimer = null;

function route() {
  const [, name, arg] = (location.hash || '#/overview').match(/^#\/([a-z]*)\/?(.*)$/) || [];
  const view = $('view');
  const key = name || 'overview';
  document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', a.dataset.page === key));
  switch (key) {
    case 'connectors': page = arg ? connectorDetail(view, decodeURIComponent(arg)) : connectorList(view); break;
    case 'deadletters': page = deadLetters(view); break;
    case 'audit': page = audit(view); break;
    case 'programs': page = programs(view); break;
    default: page = overview(view);
  }
  document.body.dataset.page = key;
  window.scrollTo(0, 0);
}

function showLogin(message) {
  stop();
  clearTimeout(renewTimer);
  $('shell').hidden = true;
  $('login').hidden = false;
  const box = $('login-error');
  box.hidden = !message;
  box.textContent = message || '';
  $('login-aud').textContent = getSession().tokenURL ? 'Assertion audience 断言受众: ' + getSession().tokenURL : '';
}

function showShell() {
  $('login').hidden = true;
  $('shell').hidden = false;
  const s = getSession();
  replace($('who'), h('span', { title: 'session expires ' + new Date(s.expires).toLocaleTimeString() }, s.client));
  scheduleRenewal();
  route();
  start();
}

// scheduleRenewal signs in again a minute before the session expires, with the key
// held in memory; without one the login screen comes back when it expires.
function scheduleRenewal() {
  clearTimeout(renewTimer);
  const s = getSession();
  if (!s.expires) return;
  const lead = holdsKey() ? 60e3 : 0;
  renewTimer = setTimeout(async () => {
    if (holdsKey()) {
      try { await renew(); scheduleRenewal(); return; } catch (e) { toast('Session renewal failed: ' + e.message, 'bad'); }
    }
    showLogin('会话已过期，请重新登录。Session expired: sign in again.');
  }, Math.max(5e3, s.expires - Date.now() - lead));
}

async function onLogin(e) {
  e.preventDefault();
  const file = $('login-key').files[0];
  const btn = $('login-submit');
  const err = $('login-error');
  err.hidden = true;
  if (!file) { err.hidden = false; err.textContent = 'Choose your private key file. 请选择私钥文件。'; return; }
  btn.disabled = true;
  try {
    const k = await readKey(await file.text(), $('login-client').value);
    await login(k, getSession().tokenURL);
    $('login-key').value = '';
    showShell();
    toast(`Signed in as ${k.clientId} 已登录`, 'ok');
  } catch (ex) {
    err.hidden = false;
    err.textContent = (ex.code ? ex.code + ': ' : '') + ex.message;
  } finally {
    btn.disabled = false;
  }
}

async function onKeyChosen() {
  const file = $('login-key').files[0];
  const info = $('login-key-info');
  info.textContent = '';
  if (!file) return;
  try {
    const k = await readKey(await file.text(), $('login-client').value);
    info.textContent = `client ${k.clientId} · ${k.alg}${k.kid ? ' · kid ' + k.kid : ''}`;
  } catch (ex) {
    info.textContent = ex.message;
  }
}

async function onLogout() {
  forget();
  stop();
  try { await api('/admin/logout', { method: 'POST' }); } catch { /* the cookie is cleared either way when it expires */ }
  setSession({ token_url: getSession().tokenURL });
  showLogin('已退出。Signed out.');
}

function updateLiveIndicator() {
  const el = $('live');
  const age = Date.now() - live.lastOK;
  el.classList.toggle('stale', age > POLL_MS * 3 && age <= POLL_MS * 10);
  el.classList.toggle('down', age > POLL_MS * 10);
  $('live-text').textContent = age > POLL_MS * 3 ? 'stale ' + Math.round(age / 1000) + 's' : 'live';
}

async function boot() {
  $('login-form').addEventListener('submit', onLogin);
  $('login-key').addEventListener('change', onKeyChosen);
  $('logout').addEventListener('click', onLogout);
  window.addEventListener('hashchange', () => { if (!$('shell').hidden) route(); });
  let renewing = null; // one renewal for the several calls a poll makes at once
  onUnauthenticated(async () => {
    if (holdsKey()) {
      renewing = renewing || renew().then(() => { scheduleRenewal(); return true; }, () => false).finally(() => { renewing = null; });
      if (await renewing) return;
      forget();
    }
    if (!$('shell').hidden) showLogin('会话已失效，请重新登录。The session ended: sign in again.');
  });
  subscribe(() => {
    updateLiveIndicator();
    if (page && !$('shell').hidden) page.update(live);
  });
  setInterval(updateLiveIndicator, 1000);
  try {
    const info = await api('/admin/session');
    setSession(info);
    if (info.authenticated) showShell();
    else showLogin();
  } catch (e) {
    showLogin('The hub did not answer: ' + e.message);
  }
}

boot();
