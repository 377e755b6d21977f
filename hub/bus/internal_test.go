package bus

import (
	"context"
	"testing"
	"time"
)

func TestCursor(t *testing.T) {
	tests := []struct {
		in   string
		p    int
		o    int64
		good bool
	}{
		{"p0o0", 0, 0, true},
		{"p3o1234", 3, 1234, true},
		{"", 0, 0, false},
		{"p0", 0, 0, false},
		{"p-1o3", 0, 0, false},
		{"p1o-3", 0, 0, false},
		{"p01o3", 0, 0, false},
		{"p1o03", 0, 0, false},
		{"p1o3 ", 0, 0, false},
		{"P1o3", 0, 0, false},
		{"p1o99999999999999999999", 0, 0, false},
	}
	for _, tc := range tests {
		p, o, ok := parseCursor(tc.in)
		if ok != tc.good || (ok && (p != tc.p || o != tc.o)) {
			t.Errorf("parseCursor(%q) = %d, %d, %v; want %d, %d, %v", tc.in, p, o, ok, tc.p, tc.o, tc.good)
		}
		if tc.good && formatCursor(tc.p, tc.o) != tc.in {
			t.Errorf("formatCursor(%d, %d) = %q, want %q", tc.p, tc.o, formatCursor(tc.p, tc.o), tc.in)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add("p0o0")
	f.Add("p12o345")
	f.Add("x")
	f.Fuzz(func(t *testing.T, s string) {
		p, o, ok := parseCursor(s)
		if !ok {
			return
		}
		if p < 0 || o < 0 {
			t.Fatalf("parseCursor(%q) accepted negative %d, %d", s, p, o)
		}
		if formatCursor(p, o) != s {
			t.Fatalf("parseCursor(%q) accepted a cursor formatCursor never issues", s)
		}
	})
}

func TestDrainContext(t *testing.T) {
	t.Run("outlives parent by grace", func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		ctx, stop := drainContext(parent, 100*time.Millisecond)
		defer stop()
		cancel()
		select {
		case <-ctx.Done():
			t.Fatal("drain context ended with its parent")
		case <-time.After(20 * time.Millisecond):
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("drain context did not end after the grace period")
		}
	})
	t.Run("stop ends it", func(t *testing.T) {
		ctx, stop := drainContext(t.Context(), time.Hour)
		stop()
		if ctx.Err() == nil {
			t.Fatal("stop did not cancel the drain context")
		}
	})
	t.Run("lives while parent lives", func(t *testing.T) {
		ctx, stop := drainContext(t.Context(), time.Millisecond)
		defer stop()
		time.Sleep(10 * time.Millisecond)
		if ctx.Err() != nil {
			t.Fatal("drain context ended while its parent is alive")
		}
	})
}
