// Package hubtest runs real hub processes for end-to-end tests: it builds the hub
// binary once per test binary, writes configurations with free loopback ports and
// private data directories, starts, stops and SIGKILLs `hub serve`, runs the hub's
// tools (load, rebuild, dump, gen) against it, reads the admin API with an admin
// client it registers, and computes the profiles a store must hold independently of
// the hub (Expect), so a test can compare them byte for byte with `hub dump`.
//
// Nothing here is a fake: every check goes through the binary operators run.
package hubtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Main runs the tests of a package that uses Binary and removes the built binary
// afterwards. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// Binary returns the path of the hub binary, building it (once per test binary)
// from this module's cmd/hub. Set VERIHUB_HUBTEST_RACE=1 to build it with -race.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			build.err = err
			return
		}
		if build.dir, err = os.MkdirTemp("", "verihub-hubtest-"); err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(build.dir, "hub")
		args := []string{"build", "-o", build.path}
		if os.Getenv("VERIHUB_HUBTEST_RACE") == "1" {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "./cmd/hub")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("building the hub binary: %w\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("finding the module root: not inside a Go module")
	}
	return filepath.Dir(mod), nil
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Run runs the hub binary with args and returns its standard output; an exit other
// than 0 is an error carrying standard error.
func Run(ctx context.Context, t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("hub %s: %w\n%s", strings.Join(args, " "), err, tail(errb.String(), 4000))
	}
	return out.String(), nil
}

// process is one running `hub serve`.
type process struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	log    string
	logOut *os.File
}

func startProcess(t testing.TB, logPath string, args ...string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(Binary(t), args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting hub %s: %w", strings.Join(args, " "), err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), log: logPath, logOut: f}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig and waits up to wait for the process to end; then it kills it.
func (p *process) signal(sig syscall.Signal, wait time.Duration) error {
	if !p.running() {
		return p.err
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(wait):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("pid %d did not stop within %s after %s; killed", p.cmd.Process.Pid, wait, sig)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
