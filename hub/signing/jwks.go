package signing

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// JWKSMaxAge is how long clients may cache the JWKS. A rotation is visible to every
// verifier within it — far sooner than a retired key leaves the set (at least
// MinMaxTokenLifetime later) — and verifiers that meet an unknown kid refetch anyway.
const JWKSMaxAge = 5 * time.Minute

// JWKSHandler serves the published public keys for GET and HEAD
// /.well-known/jwks.json, with Cache-Control and a strong ETag (If-None-Match
// answers 304).
func (s *Signer) JWKSHandler() http.Handler {
	cacheControl := "public, max-age=" + strconv.Itoa(int(JWKSMaxAge/time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(`{"type":"about:blank","title":"Method Not Allowed","status":405,"code":"method_not_allowed"}`))
			return
		}
		lk := s.keys.Load()
		h := w.Header()
		h.Set("Cache-Control", cacheControl)
		h.Set("ETag", lk.etag)
		h.Set("Content-Type", "application/json")
		if etagMatches(r.Header.Get("If-None-Match"), lk.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(lk.jwks)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(lk.jwks)
	})
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// etagMatches implements If-None-Match's weak comparison over a list of tags.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
