package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server runs a Simulator on a TCP address and can be stopped and started again on
// the same address, as an agency system restarting would.
type Server struct {
	sim *Simulator

	mu   sync.Mutex
	addr string
	srv  *http.Server
	done chan struct{}
}

// Listen starts serving sim on addr ("127.0.0.1:0" picks a free port, which is then
// kept for restarts).
func Listen(sim *Simulator, addr string) (*Server, error) {
	s := &Server{sim: sim, addr: addr}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Addr returns the address served ("host:port").
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL returns the base URL of the server.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Start listens again after Stop. Starting a running server is an error.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("starting simulator: already running")
	}
	var ln net.Listener
	var err error
	// The port may take a moment to be free again after a stop.
	for range 50 {
		ln, err = net.Listen("tcp", s.addr)
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("starting simulator on %s: %w", s.addr, err)
	}
	s.addr = ln.Addr().String()
	s.srv = &http.Server{Handler: s.sim, ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	srv, done := s.srv, s.done
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return nil
}

// Stop closes the listener and every connection at once, as a crash would; requests in
// flight see their connection drop. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv, s.done = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-done
	return err
}

// Shutdown stops gracefully: no new connections, in-flight requests finish within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv, s.done = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		srv.Close()
	}
	<-done
	return err
}

// Restart stops the server, waits down, and starts it again on the same address.
func (s *Server) Restart(down time.Duration) error {
	if err := s.Stop(); err != nil {
		return fmt.Errorf("restarting simulator: %w", err)
	}
	time.Sleep(down)
	return s.Start()
}
