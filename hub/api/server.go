package api

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/verihub/verihub/hub/auth"
)

// Server is every route of the hub's HTTP interface, with its authentication.
type Server struct {
	Auth      *auth.Authority
	JWKS      http.Handler
	Verifier  *Verifier
	Programs  *Programs
	Feeds     *Feeds
	Admin     *Admin
	Pipeline  *Pipeline
	Console   http.Handler // served at /admin/; may be nil
	Live      http.HandlerFunc
	Ready     http.HandlerFunc
	Registry  *prometheus.Registry
	MaxBody   int64
	Log       *slog.Logger
	Metrics   *Metrics
	routeList []string
}

// Routes lists the patterns Handler registers (for the OpenAPI test and docs).
func (s *Server) Routes() []string { return s.routeList }

// Handler returns the mux with every route registered.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routeList = nil
	handle := func(pattern string, maxBody int64, h http.Handler) {
		s.routeList = append(s.routeList, pattern)
		mux.Handle(pattern, Instrument(pattern, maxBody, s.Metrics, s.Log, h))
	}
	portal := s.Auth.Require(auth.RolePortal, nil)
	admin := s.Auth.Require(auth.RoleAdmin, nil)
	anyClient := s.Auth.Require("", nil)
	pushScope := s.Auth.Require("", func(r *http.Request) string { return auth.ScopePush(r.PathValue("agency")) })

	handle("POST /oauth/token", 64<<10, s.Auth.TokenHandler())
	handle("GET /.well-known/jwks.json", 0, s.JWKS)
	handle("POST /v1/verifications", 1<<20, portal(http.HandlerFunc(s.Verifier.ServeVerification)))
	handle("POST /v1/verifications:batch", s.MaxBody, portal(http.HandlerFunc(s.Verifier.ServeBatch)))
	handle("GET /v1/programs", 0, anyClient(http.HandlerFunc(s.Programs.ServeList)))
	handle("GET /v1/programs/{id}/candidates", 0, anyClient(http.HandlerFunc(s.Programs.ServeCandidates)))
	handle(FeedRoute, s.MaxBody, pushScope(s.Feeds))
	handle("GET /v1/admin/connectors", 0, admin(http.HandlerFunc(s.Admin.ServeConnectors)))
	for _, action := range []string{"pause", "resume", "sync"} {
		handle("POST /v1/admin/connectors/{name}/"+action, 1<<10, admin(s.Admin.ServeConnectorAction(action)))
	}
	handle("GET /v1/admin/deadletters", 0, admin(http.HandlerFunc(s.Admin.ServeDeadLetters)))
	handle("POST /v1/admin/deadletters/replay", 1<<20, admin(http.HandlerFunc(s.Admin.ServeReplay)))
	handle("POST /v1/admin/deadletters/purge", 1<<20, admin(http.HandlerFunc(s.Admin.ServePurge)))
	handle("GET /v1/admin/pipeline", 0, admin(http.HandlerFunc(s.Pipeline.ServePipeline)))
	handle("GET /v1/admin/audit", 0, admin(http.HandlerFunc(s.Admin.ServeAudit)))
	if s.Console != nil {
		handle("/admin/", 1<<16, s.Console)
		// The console's own routes are served inside its handler; list them too.
		if r, ok := s.Console.(interface{ Routes() []string }); ok {
			s.routeList = append(s.routeList, r.Routes()...)
		}
	}
	handle("GET /metrics", 0, promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry}))
	handle("GET /healthz", 0, s.Live)
	handle("GET /readyz", 0, s.Ready)
	return mux
}
