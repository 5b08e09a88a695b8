package herd

import (
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"report-2026_12.04.txt", true},
		{strings.Repeat("x", 128), true},
		{strings.Repeat("x", 129), false},
		{"", false},
		{".", false},
		{"..", false},
		{"...", false},
		{"a..b", true},
		{"a/b", false},
		{"a b", false},
		{"é", false},
		{"a%2Fb", false},
	} {
		if got := ValidID(tc.id); got != tc.want {
			t.Errorf("ValidID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func FuzzValidID(f *testing.F) {
	for _, seed := range []string{"a", "..", "a/b", strings.Repeat("x", 129), "abc-DEF_1.2"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !ValidID(id) {
			return
		}
		if len(id) == 0 || len(id) > MaxIDLength || strings.Trim(id, ".") == "" {
			t.Fatalf("ValidID(%q) accepted a bad length or a dots-only id", id)
		}
		for _, c := range id {
			if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", c) {
				t.Fatalf("ValidID(%q) accepted %q", id, c)
			}
		}
	})
}
