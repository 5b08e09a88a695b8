// Package batchlog gathers log lines into few writes.
//
// A service that logs a line per request and writes each with its own
// write(2) pays a system call, and a wake-up of whatever reads the pipe,
// per request; under load every request then queues on the log's lock for
// its turn. Writer buffers lines and writes them out when the buffer fills,
// at a short interval, and at once after a line that matters (Handler
// flushes after warnings and errors). The price is bounded: a process
// killed with SIGKILL loses at most one interval of info lines.
package batchlog

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Writer is a buffered io.Writer that is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	buf *bufio.Writer
}

// NewWriter buffers up to size bytes in front of w.
func NewWriter(w io.Writer, size int) *Writer {
	return &Writer{buf: bufio.NewWriterSize(w, size)}
}

// Write buffers p, writing the buffer out first when p does not fit.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Flush()
}

// FlushEvery flushes at each interval until ctx ends, then once more.
func (w *Writer) FlushEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			w.Flush()
			return
		case <-t.C:
			w.Flush()
		}
	}
}

// Handler flushes w after every record at or above Level, so that warnings
// and errors are never held back.
type Handler struct {
	slog.Handler
	W     *Writer
	Level slog.Level
}

func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= h.Level {
		if ferr := h.W.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{h.Handler.WithAttrs(attrs), h.W, h.Level}
}

func (h Handler) WithGroup(name string) slog.Handler {
	return Handler{h.Handler.WithGroup(name), h.W, h.Level}
}
