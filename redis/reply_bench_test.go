package redis

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkSessionFromReply decodes the reply of the session script, the
// CPU half of GET /session's Redis work.
func BenchmarkSessionFromReply(b *testing.B) {
	now := time.Now()
	reply := []any{int64(7), "user-1", "ada@example.test",
		strconv.FormatInt(now.UnixMilli(), 10), strconv.FormatInt(now.Add(time.Hour).UnixMilli(), 10)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sessionFromReply("sid", reply); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkItemFromFields decodes a cache hit of GET /items.
func BenchmarkItemFromFields(b *testing.B) {
	t, _ := time.Now().MarshalText()
	fields := []any{"3", `{"name":"a value of a typical size","n":42}`, string(t)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := itemFromFields("item-1", fields); err != nil {
			b.Fatal(err)
		}
	}
}
