package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/healthz"
	l.Close()

	tests := []struct {
		name    string
		args    []string
		wantOut string
		wantErr string // substring; "" means success
		usage   bool
	}{
		{name: "alive", args: []string{srv.URL + "/healthz"}, wantOut: "200 OK"},
		{name: "not ready", args: []string{srv.URL + "/readyz"}, wantErr: "503"},
		{name: "not found", args: []string{srv.URL + "/nope"}, wantErr: "404"},
		{name: "refused", args: []string{closed}, wantErr: "probing"},
		{name: "timeout", args: []string{"--timeout", "100ms", srv.URL + "/slow"}, wantErr: "deadline"},
		{name: "no url", args: nil, usage: true},
		{name: "relative url", args: []string{"/healthz"}, usage: true},
		{name: "bad scheme", args: []string{"ftp://127.0.0.1/healthz"}, usage: true},
		{name: "zero timeout", args: []string{"--timeout", "0s", srv.URL + "/healthz"}, usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runProbe(context.Background(), tt.args, &out, &errOut)
			switch {
			case tt.usage:
				if !errors.Is(err, errUsage) {
					t.Fatalf("err = %v, want a usage error", err)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if !strings.Contains(out.String(), tt.wantOut) {
					t.Fatalf("stdout = %q, want %q", out.String(), tt.wantOut)
				}
			}
		})
	}
}
