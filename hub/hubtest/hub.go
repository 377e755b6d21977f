package hubtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/hub/signing"
)

// Secrets are the files every process of one deployment shares: the PII secret, the
// access-token secret and the result-signing key set.
type Secrets struct {
	PIIFile    string
	AccessFile string
	SigningDir string
}

// NewSecrets writes fresh secrets and a signing key set under dir.
func NewSecrets(t testing.TB, dir string) Secrets {
	t.Helper()
	s := Secrets{PIIFile: filepath.Join(dir, "pii.key"), AccessFile: filepath.Join(dir, "access.key"),
		SigningDir: filepath.Join(dir, "keys")}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{s.PIIFile, s.AccessFile} {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := signing.Generate(s.SigningDir, 0); err != nil {
		t.Fatal(err)
	}
	return s
}

// Options describe one hub process. The zero value is an embedded hub (its own
// broker and store under Dir) with an admin client.
type Options struct {
	// Dir holds the process's configuration, log and, when embedded, its data.
	// Required.
	Dir string
	// Brokers of a real Kafka; empty runs the embedded broker on a free port.
	Brokers []string
	// TopicPrefix and Group isolate a test on a shared Kafka.
	TopicPrefix string
	Group       string
	// Partitions of the records topics (0: the hub's default).
	Partitions int
	// RedisAddr selects the Redis store, under RedisPrefix.
	RedisAddr   string
	RedisPrefix string
	// Secrets shared with other processes; nil uses the embedded hub's generated
	// ones under Dir.
	Secrets *Secrets
	// Clients to register besides Admin (which New adds when nil).
	Clients []*Client
	Admin   *Client
	// Connectors are entries of the configuration's connectors list.
	Connectors []map[string]any
	// Consumer overrides bus.consumer (e.g. shorter session timeouts).
	Consumer map[string]any
	// LogLevel of the process (default info).
	LogLevel string
}

// Hub is one hub process's configuration and, while started, its process.
type Hub struct {
	Options
	ConfigPath   string
	HTTPAddr     string
	URL          string
	EmbeddedAddr string // the embedded broker's address ("" on Kafka)

	t      testing.TB
	proc   *process
	starts int
}

// New writes the configuration of a hub process (fresh loopback ports) and
// registers a cleanup that kills it if it still runs and, when the test failed,
// logs the end of its log. It does not start it.
func New(t testing.TB, o Options) *Hub {
	t.Helper()
	if o.Dir == "" {
		t.Fatal("hubtest: Options.Dir is required")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if o.Admin == nil {
		o.Admin = NewClient(t, "admin-e2e", auth.RoleAdmin)
	}
	h := &Hub{Options: o, t: t, ConfigPath: filepath.Join(o.Dir, "hub.yaml"), HTTPAddr: FreeAddr(t)}
	h.URL = "http://" + h.HTTPAddr
	if len(o.Brokers) == 0 {
		h.EmbeddedAddr = FreeAddr(t)
	}
	b, err := yaml.Marshal(h.config())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.ConfigPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if h.proc != nil && h.proc.running() {
			_ = h.proc.signal(syscall.SIGKILL, 10*time.Second)
		}
		if t.Failed() {
			if b, err := os.ReadFile(h.LogPath()); err == nil {
				t.Logf("end of %s:\n%s", h.LogPath(), tail(string(b), 6000))
			}
		}
	})
	return h
}

func (h *Hub) config() map[string]any {
	o := h.Options
	level := o.LogLevel
	if level == "" {
		level = "info"
	}
	clients := []any{o.Admin.registration()}
	for _, c := range o.Clients {
		clients = append(clients, c.registration())
	}
	busCfg := map[string]any{}
	if o.TopicPrefix != "" {
		busCfg["topic_prefix"] = o.TopicPrefix
	}
	if o.Partitions > 0 {
		busCfg["partitions"] = o.Partitions
	}
	if len(o.Consumer) > 0 {
		busCfg["consumer"] = o.Consumer
	}
	if len(o.Brokers) > 0 {
		busCfg["brokers"] = o.Brokers
	} else {
		embedded := map[string]any{"addr": h.EmbeddedAddr}
		if o.Partitions > 0 {
			embedded["partitions"] = o.Partitions
		}
		busCfg["embedded"] = embedded
	}
	authCfg := map[string]any{"clients": clients}
	cfg := map[string]any{
		"data_dir": filepath.Join(o.Dir, "data"),
		"http":     map[string]any{"addr": h.HTTPAddr, "shutdown_timeout": "10s"},
		"bus":      busCfg,
		"auth":     authCfg,
		"log":      map[string]any{"level": level},
	}
	if o.Group != "" {
		cfg["matching"] = map[string]any{"group": o.Group}
	}
	if o.RedisAddr != "" {
		cfg["store"] = map[string]any{"kind": "redis", "redis": map[string]any{"addrs": []string{o.RedisAddr}, "prefix": o.RedisPrefix}}
	}
	if o.Secrets != nil {
		cfg["pii"] = map[string]any{"secret_file": o.Secrets.PIIFile}
		authCfg["secret_file"] = o.Secrets.AccessFile
		cfg["signing"] = map[string]any{"dir": o.Secrets.SigningDir}
	}
	if len(o.Connectors) > 0 {
		cfg["connectors"] = o.Connectors
	}
	return cfg
}

// DataDir is the process's data directory.
func (h *Hub) DataDir() string { return filepath.Join(h.Dir, "data") }

// LogPath is the file the process's output goes to (appended across restarts).
func (h *Hub) LogPath() string { return filepath.Join(h.Dir, "hub.log") }

// PIISecret returns the PII secret the process uses, trimmed as the hub trims it.
func (h *Hub) PIISecret() ([]byte, error) {
	p := filepath.Join(h.DataDir(), "secrets", "pii.key")
	if h.Secrets != nil {
		p = h.Secrets.PIIFile
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading the PII secret: %w", err)
	}
	return bytes.TrimSpace(b), nil
}

// Start starts `hub serve` and waits until /readyz answers 200 (at most a minute).
func (h *Hub) Start(ctx context.Context) error {
	if h.proc != nil && h.proc.running() {
		return errors.New("hubtest: already running")
	}
	h.starts++
	appendLog(h.LogPath(), fmt.Sprintf("=== start %d at %s\n", h.starts, time.Now().Format(time.RFC3339Nano)))
	p, err := startProcess(h.t, h.LogPath(), "serve", "--config", h.ConfigPath)
	if err != nil {
		return err
	}
	h.proc = p
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		if !p.running() {
			b, _ := os.ReadFile(h.LogPath())
			return fmt.Errorf("hub serve exited during start (%v):\n%s", p.err, tail(string(b), 3000))
		}
		if status, err := h.Ready(ctx); err == nil && status == http.StatusOK {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("hub at %s not ready: %w", h.URL, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// appendLog marks an event in a process log; a failure only loses the mark.
func appendLog(path, line string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Close()
}

// Running reports whether the process runs.
func (h *Hub) Running() bool { return h.proc != nil && h.proc.running() }

// Pid is the process id (0 when never started).
func (h *Hub) Pid() int {
	if h.proc == nil {
		return 0
	}
	return h.proc.cmd.Process.Pid
}

// Kill ends the process with SIGKILL: no drain, no commit, no flush.
func (h *Hub) Kill() {
	h.t.Helper()
	if h.proc == nil {
		return
	}
	appendLog(h.LogPath(), fmt.Sprintf("=== SIGKILL at %s\n", time.Now().Format(time.RFC3339Nano)))
	_ = h.proc.signal(syscall.SIGKILL, 10*time.Second)
}

// Stop ends the process with SIGTERM (a graceful stop) and returns its exit error.
func (h *Hub) Stop() error {
	if h.proc == nil {
		return nil
	}
	return h.proc.signal(syscall.SIGTERM, 45*time.Second)
}

// Ready returns the status of GET /readyz.
func (h *Hub) Ready(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL+"/readyz", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// PipelineState is GET /v1/admin/pipeline.
type PipelineState struct {
	Group      string             `json:"group"`
	Lag        int64              `json:"lag"`
	Partitions []bus.PartitionLag `json:"partitions"`
	Profiles   map[string]int64   `json:"profiles"`
}

// Profiles is the number of profiles of both kinds.
func (p PipelineState) ProfileCount() int64 { return p.Profiles["enterprise"] + p.Profiles["person"] }

// Pipeline reads the matcher's lag and the store's profile counts.
func (h *Hub) Pipeline(ctx context.Context) (PipelineState, error) {
	var p PipelineState
	err := h.Admin.GetJSON(ctx, h.URL, "/v1/admin/pipeline", &p)
	return p, err
}

// WaitCaughtUp waits until the matcher's lag is 0 on three reads in a row 300ms
// apart, and returns the last state.
func (h *Hub) WaitCaughtUp(ctx context.Context, timeout time.Duration) (PipelineState, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	zeros := 0
	var last PipelineState
	var lastErr error
	for {
		if h.proc != nil && !h.proc.running() {
			return last, fmt.Errorf("hub exited while catching up: %v", h.proc.err)
		}
		p, err := h.Pipeline(ctx)
		switch {
		case err != nil:
			lastErr, zeros = err, 0
		case p.Lag == 0:
			last = p
			zeros++
		default:
			last, zeros = p, 0
		}
		if zeros == 3 {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("lag still %d (last error %v): %w", last.Lag, lastErr, ctx.Err())
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// Tool runs `hub CMD --config <this hub's config> ARGS…` and returns its output.
func (h *Hub) Tool(ctx context.Context, cmd string, args ...string) (string, error) {
	return Run(ctx, h.t, append([]string{cmd, "--config", h.ConfigPath}, args...)...)
}
