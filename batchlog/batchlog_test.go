package batchlog

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingWriter records each write it is given.
type countingWriter struct {
	mu     sync.Mutex
	writes int
	buf    bytes.Buffer
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return c.buf.Write(p)
}

func (c *countingWriter) snapshot() (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.buf.String()
}

func TestLinesAreBatchedUntilFlush(t *testing.T) {
	out := &countingWriter{}
	w := NewWriter(out, 64<<10)
	log := slog.New(Handler{slog.NewJSONHandler(w, nil), w, slog.LevelWarn})
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() { log.Info("request", "n", i) })
	}
	wg.Wait()
	if n, _ := out.snapshot(); n != 0 {
		t.Fatalf("%d writes before a flush, want 0", n)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	n, text := out.snapshot()
	if n != 1 || strings.Count(text, "\n") != 100 {
		t.Fatalf("after one flush: %d writes holding %d lines, want 1 write of 100 lines", n, strings.Count(text, "\n"))
	}
}

func TestWarningsAreWrittenAtOnce(t *testing.T) {
	out := &countingWriter{}
	w := NewWriter(out, 64<<10)
	log := slog.New(Handler{slog.NewJSONHandler(w, nil), w, slog.LevelWarn}).With("instance_id", "a")
	log.Info("held back")
	log.Error("boom")
	if _, text := out.snapshot(); !strings.Contains(text, "held back") || !strings.Contains(text, "boom") || !strings.Contains(text, `"instance_id":"a"`) {
		t.Fatalf("after an error line the output is %q; want both lines", text)
	}
}

func TestFlushEveryFlushesAndFinishesOnCancel(t *testing.T) {
	out := &countingWriter{}
	w := NewWriter(out, 64<<10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.FlushEvery(ctx, 10*time.Millisecond); close(done) }()
	w.Write([]byte("tick\n"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, text := out.snapshot(); text == "tick\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the interval flush never came")
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.Write([]byte("last\n"))
	cancel()
	<-done
	if _, text := out.snapshot(); text != "tick\nlast\n" {
		t.Fatalf("after cancel the output is %q, want the last line flushed", text)
	}
}
