// Package console serves the administrators' web console at /admin/: a single-page
// application embedded in the binary (no CDN, no external fonts or scripts) over the
// admin JSON API, with its own login.
//
// Login: the administrator picks their private JWK; the page signs an RFC 7523 client
// assertion with WebCrypto (ES256) for the token endpoint's audience and posts it to
// POST /admin/login, which checks it exactly as POST /oauth/token does
// (auth.Authority.Login), requires the admin role, and sets the HttpOnly,
// SameSite=Strict session cookie auth.Require accepts. The answer carries the CSRF
// token the page sends in X-CSRF-Token on every POST. The key stays in the page's
// memory as a non-extractable CryptoKey so the session renews itself before the
// access token expires; reloading the page asks for the file again.
//
// Routes (all under /admin/):
//
//	GET  /admin/            the application (static/index.html), CSP 'self' only
//	GET  /admin/static/…    its scripts, styles and icons
//	GET  /admin/session     {authenticated, client, expires, csrf, token_url}
//	POST /admin/login       {"assertion": JWS} → session cookie + {client, expires, csrf}
//	POST /admin/logout      ends the session (its token is refused by every hub
//	                        process) and clears the cookie
//	GET  /admin/api/summary request rate and latency quantiles of the verification
//	                        routes over the last hour (admin session or bearer)
//
// The summary is computed from successive snapshots of the Prometheus registry taken
// when it is asked for (at most one every SampleEvery) and when the console is built,
// so it needs no goroutine; its window_seconds says how much history it covers.
package console
