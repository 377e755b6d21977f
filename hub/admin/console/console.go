package console

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/problem"
)

//go:embed static
var assets embed.FS

// Defaults of Options.
const (
	DefaultSampleEvery = 15 * time.Second
	DefaultWindow      = time.Hour
)

// Options configure a Console.
type Options struct {
	// Auth authenticates logins and the summary endpoint. Required.
	Auth *auth.Authority
	// Registry is read by the summary endpoint. Required.
	Registry prometheus.Gatherer
	// TokenURL is the token endpoint's URL: the audience of login assertions.
	TokenURL string
	// SecureCookies marks the session cookie HTTPS-only; set it when the hub is
	// reached over HTTPS.
	SecureCookies bool
	// SampleEvery and Window tune the summary (defaults 15s and 1h).
	SampleEvery time.Duration
	Window      time.Duration
	// Log (default: discard) and Now (default time.Now).
	Log *slog.Logger
	Now func() time.Time
}

// Console is the /admin/ handler. It is safe for concurrent use.
type Console struct {
	opts    Options
	mux     *http.ServeMux
	sampler *sampler
}

var _ http.Handler = (*Console)(nil)

// New builds the console and takes the summary's first snapshot.
func New(o Options) (*Console, error) {
	if o.Auth == nil || o.Registry == nil {
		return nil, errors.New("console: Auth and Registry are required")
	}
	if _, err := url.Parse(o.TokenURL); err != nil || o.TokenURL == "" {
		return nil, errors.New("console: TokenURL must be the token endpoint's URL")
	}
	if o.SampleEvery <= 0 {
		o.SampleEvery = DefaultSampleEvery
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Console{opts: o, mux: http.NewServeMux(), sampler: &sampler{g: o.Registry, every: o.SampleEvery, window: o.Window}}
	if _, err := c.sampler.sample(o.Now()); err != nil {
		return nil, errors.New("console: reading the metrics registry: " + err.Error())
	}
	static, _ := fs.Sub(assets, "static")
	files := http.StripPrefix("/admin/static/", http.FileServerFS(static))
	c.mux.HandleFunc("GET /admin/{$}", c.serveIndex)
	c.mux.HandleFunc("GET /admin/index.html", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusMovedPermanently)
	})
	c.mux.Handle("GET /admin/static/", staticHeaders(files))
	c.mux.HandleFunc("GET /admin/session", c.serveSession)
	c.mux.HandleFunc("POST /admin/login", c.serveLogin)
	c.mux.HandleFunc("POST /admin/logout", c.serveLogout)
	c.mux.Handle("GET /admin/api/summary", o.Auth.Require(auth.RoleAdmin, nil)(http.HandlerFunc(c.serveSummary)))
	c.mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, problem.New(http.StatusNotFound, "not_found", "no such console resource"), w.Header().Get("X-Request-Id"))
	})
	return c, nil
}

// Routes lists the console's API routes below /admin/ (the page and its static files
// aside), so the server can describe every route it serves.
func (c *Console) Routes() []string {
	return []string{"GET /admin/session", "POST /admin/login", "POST /admin/logout", "GET /admin/api/summary"}
}

// ServeHTTP serves /admin/ and everything below it.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Content-Security-Policy", csp)
	c.mux.ServeHTTP(w, r)
}

// csp allows nothing but the hub itself: no inline script or style, no frames.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func staticHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The assets change with the binary; revalidate rather than cache blindly.
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

func (c *Console) serveIndex(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("static/index.html")
	if err != nil {
		problem.Write(w, err, w.Header().Get("X-Request-Id"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// SessionInfo is the body of GET /admin/session and of a successful login.
type SessionInfo struct {
	Authenticated bool      `json:"authenticated"`
	Client        string    `json:"client,omitempty"`
	Expires       time.Time `json:"expires,omitzero"`
	CSRF          string    `json:"csrf,omitempty"`
	TokenURL      string    `json:"token_url"`
}

func (c *Console) serveSession(w http.ResponseWriter, r *http.Request) {
	info := SessionInfo{TokenURL: c.opts.TokenURL}
	if tok, ok := auth.SessionToken(r); ok {
		if id, err := c.opts.Auth.Check(r.Context(), tok); err == nil && id.Role == auth.RoleAdmin {
			info = SessionInfo{Authenticated: true, Client: id.ClientID, Expires: id.ExpiresAt.UTC(), CSRF: c.opts.Auth.CSRFToken(tok), TokenURL: c.opts.TokenURL}
		}
	}
	writeJSON(w, http.StatusOK, info)
}

// loginRequest is the body of POST /admin/login.
type loginRequest struct {
	Assertion string `json:"assertion"`
}

func (c *Console) serveLogin(w http.ResponseWriter, r *http.Request) {
	rid := w.Header().Get("X-Request-Id")
	if !sameOrigin(r) {
		problem.Write(w, problem.New(http.StatusForbidden, "cross_origin", "log in from the hub's own console"), rid)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		problem.Write(w, problem.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json"), rid)
		return
	}
	var req loginRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		problem.Write(w, problem.New(http.StatusBadRequest, "malformed_request", `the body must be {"assertion": "<JWS>"}`), rid)
		return
	}
	tok, exp, err := c.opts.Auth.Login(r.Context(), req.Assertion)
	if err != nil {
		var te *auth.TokenError
		if !errors.As(err, &te) {
			problem.Write(w, err, rid)
			return
		}
		c.opts.Log.Info("console login refused", "code", te.Code, "request_id", rid)
		pe := problem.New(te.Status, te.Code, te.Description)
		if te.Status == http.StatusServiceUnavailable {
			pe.Header = http.Header{"Retry-After": {"5"}}
		}
		problem.Write(w, pe, rid)
		return
	}
	id, err := c.opts.Auth.Check(r.Context(), tok)
	if err != nil {
		problem.Write(w, err, rid)
		return
	}
	auth.SetSessionCookie(w, tok, exp, c.opts.SecureCookies)
	writeJSON(w, http.StatusOK, SessionInfo{Authenticated: true, Client: id.ClientID, Expires: exp.UTC(),
		CSRF: c.opts.Auth.CSRFToken(tok), TokenURL: c.opts.TokenURL})
}

func (c *Console) serveLogout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		problem.Write(w, problem.New(http.StatusForbidden, "cross_origin", "log out from the hub's own console"), w.Header().Get("X-Request-Id"))
		return
	}
	auth.ClearSessionCookie(w, c.opts.SecureCookies)
	w.Header().Set("Cache-Control", "no-store")
	if tok, ok := auth.SessionToken(r); ok {
		if err := c.opts.Auth.EndSession(r.Context(), tok); err != nil {
			// The cookie is gone and this process refuses the token; other processes
			// may accept it until it expires.
			c.opts.Log.Warn("console logout: the session's end was not recorded", "err", err)
			problem.Write(w, problem.New(http.StatusServiceUnavailable, auth.CodeStateUnavailable,
				"signed out here; the session store did not record the end, so other hub processes may accept the old session until it expires"),
				w.Header().Get("X-Request-Id"))
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// sameOrigin refuses a browser request another site made: when the browser names the
// page's origin, its host must be the one the request was sent to.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin" || r.Header.Get("Sec-Fetch-Site") == "none"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (c *Console) serveSummary(w http.ResponseWriter, r *http.Request) {
	snaps, err := c.sampler.sample(c.opts.Now())
	if err != nil {
		problem.Write(w, errors.New("reading the metrics registry"), w.Header().Get("X-Request-Id"))
		return
	}
	writeJSON(w, http.StatusOK, summary(snaps))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
