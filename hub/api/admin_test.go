package api

import "testing"

func TestMaskIDs(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"id_number":"11010519491231002X"}`, `{"id_number":"110105********002X"}`},
		{`batch-44052418800101001420`, `batch-44052418800101001420`}, // 20 digits: not an ID number
		{`x11010519491231002x`, `x110105********002x`},
		{`old 110105491231002 number`, `old 110105*****1002 number`},
		{`uscc 91350100M000100Y43`, `uscc 91350100M000100Y43`},
	}
	for _, tt := range tests {
		if got := MaskIDs(tt.in); got != tt.want {
			t.Errorf("MaskIDs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
