package embedded_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/hub/bus/embedded"
)

const crashChildEnv = "VERIHUB_EMBEDDED_CRASH_CHILD"

// TestCrashChild is the process TestSurvivesKill kills: it runs a broker, publishes
// 400 messages, consumes and commits at least 250 of them (whole batches), prints
// READY with the group's lag and waits to be killed. It does nothing in a normal test run.
func TestCrashChild(t *testing.T) {
	spec := os.Getenv(crashChildEnv)
	if spec == "" {
		t.Skip("child process of TestSurvivesKill only")
	}
	dir, addr, _ := strings.Cut(spec, ",")
	br, err := embedded.Start(embedded.Config{Addr: addr, DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	b := newBus(t, addr)
	defer b.Close()
	topic := b.Config().RecordsTopic(contracts.AgencyTax)
	if err := b.Publish(t.Context(), messages(topic, 0, 400)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var handled atomic.Int64
	err = b.Consume(ctx, "crash-group", []string{topic}, func(_ context.Context, batch []bus.Message) error {
		if handled.Add(int64(len(batch))) >= 250 {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lags, err := b.Lag(t.Context(), "crash-group", []string{topic})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("READY %d\n", bus.TotalLag(lags))
	time.Sleep(time.Hour)
}

// TestSurvivesKill kills a process running the embedded broker with SIGKILL (no
// shutdown, no final save) and checks that a broker restarted on its data dir still
// has every acknowledged message and committed offset.
func TestSurvivesKill(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("in the child")
	}
	dir, addr := t.TempDir(), freeAddr(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir+","+addr)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- rest
				return
			}
		}
		close(ready)
	}()
	var lagText string
	select {
	case s, ok := <-ready:
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("child exited before READY")
		}
		lagText = s
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child not READY within 90s")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	var lagBefore int64
	fmt.Sscan(lagText, &lagBefore)
	if lagBefore < 0 || lagBefore > 150 {
		t.Fatalf("child reported lag %d, want 0..150 (at least 250 of 400 committed)", lagBefore)
	}

	br, err := embedded.Start(embedded.Config{Addr: addr, DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("restart after kill: %v", err)
	}
	defer br.Close()
	b := newBus(t, addr)
	defer b.Close()
	topic := b.Config().RecordsTopic(contracts.AgencyTax)
	n := 0
	if err := b.ReadAll(t.Context(), []string{topic}, func(batch []bus.Message) error { n += len(batch); return nil }); err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	if n != 400 {
		t.Fatalf("after SIGKILL the broker has %d of 400 acknowledged messages", n)
	}
	lags, err := b.Lag(t.Context(), "crash-group", []string{topic})
	if err != nil {
		t.Fatalf("Lag: %v", err)
	}
	if got := bus.TotalLag(lags); got != lagBefore {
		t.Fatalf("lag after SIGKILL = %d, before = %d: committed offsets were lost", got, lagBefore)
	}
}
