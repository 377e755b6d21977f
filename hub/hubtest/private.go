package hubtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Redis is a private redis-server for tests that stop and start it, so the shared
// development instance is never disturbed.
type Redis struct {
	Addr string
	dir  string
	t    testing.TB
	proc *process
}

// StartRedis starts a private redis-server on a free loopback port (no persistence)
// and stops it when the test ends. It skips the test when redis-server is not
// installed.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed (deploy/dev/redis.sh start installs it)")
	}
	r := &Redis{Addr: FreeAddr(t), dir: t.TempDir(), t: t}
	t.Cleanup(func() { r.Stop() })
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

// Start starts the server again on the same port and waits until it accepts
// connections.
func (r *Redis) Start() error {
	_, port, _ := net.SplitHostPort(r.Addr)
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--dir", r.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	f, err := os.OpenFile(filepath.Join(r.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("starting redis-server: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), logOut: f}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	r.proc = p
	return waitPort(r.Addr, 10*time.Second)
}

// Stop kills the server (SIGKILL: it keeps nothing anyway).
func (r *Redis) Stop() {
	if r.proc != nil {
		_ = r.proc.signal(syscall.SIGKILL, 10*time.Second)
	}
}

// Kafka is a private single-node Apache Kafka run by deploy/dev/kafka.sh with its
// own state directory and ports, reusing the jars the shared development broker
// downloaded.
type Kafka struct {
	Addr  string
	env   []string
	state string
	t     testing.TB
}

// StartKafka starts a private Kafka and stops it when the test ends. It skips the
// test unless the Kafka jars are already in the development state directory
// (VERIHUB_DEV_STATE, default ~/.cache/verihub-dev; `make services` fetches them).
func StartKafka(t testing.TB) *Kafka {
	t.Helper()
	version := os.Getenv("KAFKA_VERSION")
	if version == "" {
		version = "4.1.1"
	}
	devState := os.Getenv("VERIHUB_DEV_STATE")
	if devState == "" {
		home, _ := os.UserHomeDir()
		devState = filepath.Join(home, ".cache", "verihub-dev")
	}
	lib := filepath.Join(devState, "kafka", "lib-"+version)
	if _, err := os.Stat(filepath.Join(lib, ".complete")); err != nil {
		t.Skipf("no Kafka %s jars in %s (run deploy/dev/kafka.sh start once)", version, lib)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("java is not installed")
	}
	state := t.TempDir()
	if err := os.MkdirAll(filepath.Join(state, "kafka"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(lib, filepath.Join(state, "kafka", "lib-"+version)); err != nil {
		t.Fatal(err)
	}
	addr, controller := FreeAddr(t), FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	_, cport, _ := net.SplitHostPort(controller)
	k := &Kafka{Addr: addr, state: state, t: t,
		env: append(os.Environ(), "STATE="+state, "KAFKA_PORT="+port, "KAFKA_CONTROLLER_PORT="+cport,
			"KAFKA_VERSION="+version, "KAFKA_HEAP=384m")}
	t.Cleanup(func() {
		if err := k.Stop(); err != nil {
			t.Logf("stopping the private Kafka: %v", err)
		}
	})
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	return k
}

func (k *Kafka) script(verb string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "deploy", "dev", "kafka.sh"), verb)
	cmd.Env = k.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kafka.sh %s: %w\n%s", verb, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Start starts the broker (again) and returns once it serves.
func (k *Kafka) Start() error { return k.script("start") }

// Stop stops the broker gracefully.
func (k *Kafka) Stop() error { return k.script("stop") }

func waitPort(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s: %w", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
