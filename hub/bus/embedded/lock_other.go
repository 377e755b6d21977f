//go:build !unix

package embedded

// lockDir is a no-op where flock is unavailable: run one broker per data dir.
func lockDir(string) (func(), error) { return func() {}, nil }
