// Package hub wires verihub's parts into one service: the bus (Kafka or the embedded
// broker), the profile store (Redis or embedded), the ingest edge and matcher, the
// connectors, rule packs, signing, authentication, audit and the HTTP API. The same
// code runs embedded on one machine and distributed across many processes.
package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/verihub/verihub/connectors"
	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/admin"
	"github.com/verihub/verihub/hub/admin/console"
	"github.com/verihub/verihub/hub/api"
	"github.com/verihub/verihub/hub/audit"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/hub/bus/embedded"
	"github.com/verihub/verihub/hub/pipeline"
	"github.com/verihub/verihub/hub/signing"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/boltstore"
	"github.com/verihub/verihub/matching/redisstore"
	"github.com/verihub/verihub/matching/rules"
)

// Store is a profile store that also keeps the shared state.
type Store interface {
	matching.Store
	matching.StateStore
	matching.Pinger
}

// App is a running hub's parts. Build it with New, run it with Run.
type App struct {
	Config    Config
	Log       *slog.Logger
	Registry  *prometheus.Registry
	Protector *contracts.Protector
	Validator *contracts.Validator
	Broker    *embedded.Broker // nil when on a Kafka cluster
	Bus       *bus.Bus
	Store     Store
	Engine    *rules.Engine
	Signer    *signing.Signer
	Auth      *auth.Authority
	Ingest    *pipeline.Ingest
	Matcher   *pipeline.Matcher
	Trail     *audit.Trail
	Conns     *connectors.Manager
	Health    *admin.Health
	Server    *api.Server

	listener net.Listener
	closed   bool
}

// New builds every part and checks that the dependencies answer. On error it closes
// what it opened.
func New(ctx context.Context, cfg Config, log *slog.Logger) (app *App, err error) {
	a := &App{Config: cfg, Log: log, Registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	embeddedMode := cfg.Bus.IsEmbedded()
	if embeddedMode {
		for _, p := range []string{cfg.PII.SecretFile, cfg.Auth.SecretFile} {
			if p == "" || !strings.HasPrefix(filepath.Clean(p), filepath.Clean(cfg.DataDir)) {
				continue
			}
			if created, err := ensureSecret(p); err != nil {
				return nil, err
			} else if created {
				log.Warn("generated a secret for this embedded hub; back it up with the data directory", "path", p)
			}
		}
	}
	piiSecret, err := readSecret(cfg.PII, "pii")
	if err != nil {
		return nil, err
	}
	if a.Protector, err = contracts.NewProtector(piiSecret); err != nil {
		return nil, err
	}
	if a.Validator, err = contracts.NewValidator(contracts.Options{LegacyUSCC: cfg.Validation.LegacyUSCC}); err != nil {
		return nil, fmt.Errorf("validator: %w", err)
	}

	busCfg := cfg.Bus.Config
	if embeddedMode {
		log.Warn("EMBEDDED MODE: starting an in-process Kafka-protocol broker and the embedded store on this machine; "+
			"for production configure bus.brokers and store.kind: redis", "broker", cfg.Bus.Embedded.Addr, "data_dir", cfg.DataDir)
		if a.Broker, err = embedded.Start(cfg.Bus.Embedded, log); err != nil {
			return nil, fmt.Errorf("starting the embedded broker: %w", err)
		}
		busCfg.Brokers = []string{a.Broker.Addr()}
		if busCfg.Partitions == 0 {
			busCfg.Partitions = cfg.Bus.Embedded.Partitions
		}
	}
	if a.Bus, err = bus.New(busCfg.WithDefaults(), log, a.Registry); err != nil {
		return nil, fmt.Errorf("bus: %w", err)
	}
	if err := a.Bus.EnsureTopics(ctx); err != nil {
		return nil, fmt.Errorf("bus: %w", err)
	}

	switch cfg.Store.Kind {
	case "redis":
		rc := cfg.Store.Redis
		if cfg.Store.RedisPasswordEnv != "" {
			rc.Password = os.Getenv(cfg.Store.RedisPasswordEnv)
		}
		s, err := redisstore.Open(ctx, rc)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		a.Store = s
	default:
		s, err := boltstore.Open(ctx, cfg.Store.Embedded)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		a.Store = s
	}

	a.Registry.MustRegister(newStoreCollector(a.Store, 2*time.Second))

	if a.Engine, err = rules.Load(cfg.Rules); err != nil {
		return nil, err
	}
	if embeddedMode {
		if _, err := signing.Generate(cfg.Signing.Dir, 0); err == nil {
			log.Warn("generated the result-signing key set", "dir", cfg.Signing.Dir)
		} else if !errors.Is(err, contracts.ErrConflict) {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
	}
	if a.Signer, err = signing.NewSigner(cfg.Signing, log); err != nil {
		return nil, fmt.Errorf("signing: %w (create keys with `hub keys generate --dir %s`)", err, cfg.Signing.Dir)
	}
	if a.Auth, err = auth.New(cfg.Auth, auth.Deps{State: a.Store, Logger: log}); err != nil {
		return nil, err
	}

	a.Ingest = pipeline.NewIngest(a.Validator, a.Protector, a.Bus, log, a.Registry)
	a.Matcher = pipeline.NewMatcher(a.Bus, a.Store, cfg.Matching.Group, busCfg.RecordsTopics(), log, a.Registry)
	a.Trail = audit.New(a.Bus)
	connMetrics, err := connectors.NewMetrics(a.Registry)
	if err != nil {
		return nil, err
	}
	if a.Conns, err = connectors.NewManager(connectors.Deps{Sink: a.Ingest, Cursors: a.Store, Validator: a.Ingest.Validator(),
		Metrics: connMetrics, Logger: log}); err != nil {
		return nil, err
	}
	for _, cc := range cfg.Connectors {
		if err := a.Conns.Add(cc); err != nil {
			return nil, fmt.Errorf("connector %s: %w", cc.Name, err)
		}
	}

	a.Health = admin.NewHealth(2*time.Second, 2*time.Second)
	a.Health.Add("bus", a.Bus.Ping)
	a.Health.Add("store", a.Store.Ping)

	legacy := map[string]bool{}
	for _, c := range cfg.Validation.LegacyUSCC {
		legacy[c] = true
	}
	a.Server = &api.Server{
		Auth: a.Auth, JWKS: a.Signer.JWKSHandler(),
		Verifier: &api.Verifier{Engine: a.Engine, Profiles: a.Store, Protector: a.Protector, Signer: a.Signer, Audit: a.Trail, Legacy: legacy},
		Programs: &api.Programs{Engine: a.Engine, Store: a.Store, Audit: a.Trail},
		Feeds:    &api.Feeds{Keys: a.Auth, Submit: a.Ingest, Receipts: a.Store, Log: log},
		Admin: &api.Admin{Connectors: a.Conns, DeadLetters: a.Bus, Replay: a.Ingest, Audit: a.Trail, Trail: a.Trail,
			State: a.Store, Protector: a.Protector},
		Pipeline: &api.Pipeline{Bus: a.Bus, Store: a.Store, Group: cfg.Matching.Group, Topics: busCfg.RecordsTopics()},
		Live:     a.Health.ServeLive, Ready: a.Health.ServeReady,
		Registry: a.Registry, MaxBody: cfg.HTTP.MaxBodyBytes, Log: log, Metrics: api.NewMetrics(a.Registry),
	}
	if a.Server.Console, err = console.New(console.Options{Auth: a.Auth, Registry: a.Registry, TokenURL: cfg.Auth.TokenURL,
		SecureCookies: strings.HasPrefix(cfg.HTTP.ExternalURL, "https://"), Log: log}); err != nil {
		return nil, err
	}
	if a.listener, err = net.Listen("tcp", cfg.HTTP.Addr); err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.HTTP.Addr, err)
	}
	return a, nil
}

// Addr is the address the API listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Run serves until ctx ends, then stops in order: readiness false → HTTP drain →
// stop fetching and finish in-flight batches (offsets committed) → flush the producer
// → close the broker and the store. The stop is bounded by http.shutdown_timeout.
func (a *App) Run(ctx context.Context) error {
	defer a.close()
	srv := &http.Server{Handler: a.Server.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)}

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	work, workCtx := errgroup.WithContext(workCtx)
	if !a.Config.Matching.Disabled {
		work.Go(func() error { return a.Matcher.Run(workCtx) })
		work.Go(func() error {
			return a.Bus.WatchLag(workCtx, a.Config.Matching.Group, a.Bus.Config().RecordsTopics(), 15*time.Second)
		})
	}
	work.Go(func() error { return a.Conns.Run(workCtx) })
	work.Go(func() error { return a.Signer.Run(workCtx) })
	work.Go(func() error { return a.Auth.Run(workCtx) })
	if r, ok := a.Store.(interface{ Run(context.Context) error }); ok {
		work.Go(func() error { return r.Run(workCtx) })
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(a.listener) }()
	if a.Config.HTTP.DebugAddr != "" {
		dbg, err := a.serveDebug(a.Config.HTTP.DebugAddr)
		if err != nil {
			return err
		}
		defer func() { _ = dbg.Close() }()
	}
	a.Log.Info("hub serving", "addr", a.Addr(), "external_url", a.Config.HTTP.ExternalURL,
		"embedded", a.Config.Bus.IsEmbedded(), "store", a.Config.Store.Kind, "programs", len(a.Engine.Programs()),
		"connectors", len(a.Config.Connectors))

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("serving http: %w", err)
		}
	case <-workCtx.Done():
		runErr = errors.New("a hub component stopped")
	}
	a.Log.Info("hub stopping")
	a.Health.Drain()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.Config.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		a.Log.Warn("http drain incomplete", "err", err)
	}
	stopWork()
	done := make(chan error, 1)
	go func() { done <- work.Wait() }()
	select {
	case err := <-done:
		if err != nil && runErr == nil && !errors.Is(err, context.Canceled) {
			runErr = err
		}
	case <-shutCtx.Done():
		a.Log.Warn("components did not stop within the shutdown timeout")
	}
	return runErr
}

// serveDebug serves net/http/pprof's handlers on addr until the returned server
// is closed.
func (a *App) serveDebug(addr string) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on http.debug_addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	a.Log.Warn("serving profiles without authentication", "debug_addr", ln.Addr().String())
	return srv, nil
}

// close releases what New opened in shutdown order: the bus (flushing its producer)
// before the broker it talks to, the store last.
func (a *App) close() {
	if a.closed {
		return
	}
	a.closed = true
	if a.listener != nil {
		_ = a.listener.Close()
	}
	for _, c := range []struct {
		name  string
		close func() error
		open  bool
	}{
		{"bus", func() error { return a.Bus.Close() }, a.Bus != nil},
		{"broker", func() error { return a.Broker.Close() }, a.Broker != nil},
		{"store", func() error { return a.Store.Close() }, a.Store != nil},
	} {
		if !c.open {
			continue
		}
		if err := c.close(); err != nil {
			a.Log.Warn("closing", "part", c.name, "err", err)
		}
	}
}
