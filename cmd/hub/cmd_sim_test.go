package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSimServesDataDir(t *testing.T) {
	dir := t.TempDir()
	lines := `{"type":"tax.taxpayer","id":"91350100M000100Y43","revision":0,"as_of":"2019-01-05T00:00:00Z","data":{}}
{"type":"si.employer","id":"91350100M000100Y43","revision":0,"as_of":"2019-01-05T00:00:00Z","data":{}}
`
	if err := os.WriteFile(filepath.Join(dir, "tax.ndjson"), []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runSim(ctx, []string{"--agency", "tax", "--data", dir, "--token", "t0k"}, pw, io.Discard)
		pw.Close()
	}()
	buf := make([]byte, 4096)
	n, _ := pr.Read(buf)
	go io.Copy(io.Discard, pr)
	out := string(buf[:n])
	url := regexp.MustCompile(`http://[0-9.:]+`).FindString(out)
	if url == "" || !strings.Contains(out, "1 records") || !strings.Contains(out, "1 of other types skipped") {
		t.Fatalf("output %q", out)
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/records?type=tax.taxpayer", nil)
	req.Header.Set("Authorization", "Bearer t0k")
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.CloseIdleConnections()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("91350100M000100Y43")) {
		t.Errorf("GET = %d %s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("runSim = %v", err)
	}
}

func TestSimUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--agency", "grant", "--data", "x"},
		{"--agency", "tax"},
		{"--agency", "tax", "--data", "x", "--fail-rate", "0.8", "--hang-rate", "0.5"},
	} {
		err := runSim(context.Background(), args, io.Discard, io.Discard)
		if !errors.Is(err, errUsage) {
			t.Errorf("runSim(%q) = %v, want a usage error", args, err)
		}
	}
}
