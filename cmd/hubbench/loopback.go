package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// errNotLoopback refuses a target that is not this machine: the tool sends load,
// and load must never leave the host it runs on.
var errNotLoopback = errors.New("only loopback targets are allowed (127.0.0.0/8, ::1, localhost)")

// checkLoopbackURL accepts an http(s) URL whose host is a loopback IP literal or
// "localhost".
func checkLoopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url %q: scheme must be http or https", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("url %q: credentials in the URL are not accepted", raw)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("url %q: %w", raw, errNotLoopback)
	}
	return u, nil
}

var loopbackDialer = &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}

// dialLoopback connects to addr and refuses the connection unless its peer is a
// loopback address (a name resolving elsewhere is refused here).
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := loopbackDialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		c.Close()
		return nil, fmt.Errorf("dialing %s: %w", addr, errNotLoopback)
	}
	return c, nil
}

// loadClient sends the load: fasthttp's client, which costs the machine a fraction
// of net/http's per request (the load tool shares the two cores with the hub, so
// its own cost comes off what the hub can show). It connects only to loopback
// addresses, keeps at most conns connections and follows no redirects.
func loadClient(conns int, timeout time.Duration) *fasthttp.Client {
	return &fasthttp.Client{
		Dial:                     func(addr string) (net.Conn, error) { return dialLoopback(context.Background(), "tcp", addr) },
		MaxConnsPerHost:          conns,
		MaxConnWaitTimeout:       timeout, // a request waits for a free connection, as with net/http
		MaxIdleConnDuration:      90 * time.Second,
		ReadTimeout:              timeout,
		WriteTimeout:             timeout,
		ReadBufferSize:           32 << 10, // an answer's headers and body in one read
		MaxResponseBodySize:      64 << 20,
		NoDefaultUserAgentHeader: true,
		DisablePathNormalizing:   true,
	}
}

// loopbackClient is the net/http client for the token endpoint: loopback only, one
// idle connection, no redirects.
func loopbackClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil, // never through a proxy: the target is this machine
		DialContext:         dialLoopback,
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("redirects are not followed")
		},
	}
}
