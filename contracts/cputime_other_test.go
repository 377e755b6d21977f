//go:build !unix

package contracts

import "testing"

func reportCPU(*testing.B) func() { return func() {} }
