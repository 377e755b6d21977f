// The admin API client. The session cookie (HttpOnly) authenticates every call; POSTs
// carry the session's CSRF token.

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || ('HTTP ' + status));
    this.status = status;
    this.code = code || 'http_' + status;
  }
}

const session = { csrf: '', client: '', expires: 0, tokenURL: '' };
const listeners = { unauthenticated: [] };

export function getSession() { return { ...session }; }

export function setSession(info) {
  session.csrf = info.csrf || '';
  session.client = info.client || '';
  session.expires = info.expires ? Date.parse(info.expires) : 0;
  if (info.token_url) session.tokenURL = info.token_url;
}

export function onUnauthenticated(fn) { listeners.unauthenticated.push(fn); }

const AUTH_CODES = new Set(['missing_token', 'invalid_token', 'token_expired', 'token_revoked']);

// api calls a hub endpoint and returns its JSON body (null for 204).
export async function api(path, { method = 'GET', body, query } = {}) {
  let url = path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const qs = q.toString();
    if (qs) url += '?' + qs;
  }
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    headers['X-CSRF-Token'] = session.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(url, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'the hub did not answer: ' + e.message);
  }
  if (res.status === 204) return null;
  const ct = res.headers.get('Content-Type') || '';
  const data = ct.includes('json') ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    const err = new ApiError(res.status, data && data.code, data && (data.detail || data.title));
    if (res.status === 401 && AUTH_CODES.has(err.code)) listeners.unauthenticated.forEach((fn) => fn(err));
    throw err;
  }
  return data;
}
