// Login with a private JWK: the browser signs an RFC 7523 client assertion with
// WebCrypto and exchanges it at POST /admin/login for a session cookie. The key is
// imported non-extractable and kept only in this page's memory, to renew the session
// before it expires.

import { api, setSession } from './api.js';

const CURVES = {
  'P-256': { alg: 'ES256', hash: 'SHA-256' },
  'P-384': { alg: 'ES384', hash: 'SHA-384' },
  'P-521': { alg: 'ES512', hash: 'SHA-512' },
};

let held = null; // {key, alg, hash, clientId, kid}

export function b64url(bytes) {
  let bin = '';
  const arr = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  for (let i = 0; i < arr.length; i++) bin += String.fromCharCode(arr[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function b64urlJSON(v) {
  return b64url(new TextEncoder().encode(JSON.stringify(v)));
}

// readKey parses a private JWK file and imports it for signing. It returns what the
// form shows (client id, kid, alg) without keeping the key yet.
export async function readKey(text, clientOverride) {
  let jwk;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new Error('the file is not JSON (expected a private JWK)');
  }
  if (jwk && Array.isArray(jwk.keys)) {
    if (jwk.keys.length !== 1) throw new Error('the file is a key set; give a single private JWK');
    jwk = jwk.keys[0];
  }
  if (!jwk || jwk.kty !== 'EC' || !CURVES[jwk.crv]) {
    throw new Error('the console signs with EC keys (P-256 → ES256, P-384, P-521); this key is ' + (jwk && jwk.kty) + ' ' + (jwk && jwk.crv || ''));
  }
  if (!jwk.d) throw new Error('this is a public key; the private key (with "d") is needed to sign in');
  const { alg, hash } = CURVES[jwk.crv];
  const clientId = (clientOverride || '').trim() || jwk.client_id || '';
  if (!clientId) throw new Error('the key has no client_id member: type the client id');
  const key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, ext: true },
    { name: 'ECDSA', namedCurve: jwk.crv }, false, ['sign']);
  return { key, alg, hash, clientId, kid: jwk.kid || '' };
}

// signAssertion signs a client assertion for aud = the token endpoint URL. WebCrypto's
// ECDSA signature is already the raw r||s JWS wants.
export async function signAssertion(k, tokenURL) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: k.alg, typ: 'JWT' };
  if (k.kid) header.kid = k.kid;
  const jti = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const claims = { iss: k.clientId, sub: k.clientId, aud: tokenURL, iat: now, exp: now + 60, jti };
  const input = b64urlJSON(header) + '.' + b64urlJSON(claims);
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: k.hash }, k.key, new TextEncoder().encode(input));
  return input + '.' + b64url(sig);
}

// login signs in with k and keeps it for renewal.
export async function login(k, tokenURL) {
  const info = await api('/admin/login', { method: 'POST', body: { assertion: await signAssertion(k, tokenURL) } });
  setSession(info);
  held = { ...k, tokenURL };
  return info;
}

// renew signs in again with the held key; false when no key is held.
export async function renew() {
  if (!held) return false;
  const info = await api('/admin/login', { method: 'POST', body: { assertion: await signAssertion(held, held.tokenURL) } });
  setSession(info);
  return true;
}

export function forget() { held = null; }
export function holdsKey() { return held !== null; }
