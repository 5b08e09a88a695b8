package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/replicatest"
)

func TestTwoReplicasOnOneDataDirectory(t *testing.T) {
	dir := t.TempDir()
	a := startReplica(t, map[string]string{"HERD_DATA_DIR": dir, "HERD_INSTANCE_ID": "a"})
	b := startReplica(t, map[string]string{"HERD_DATA_DIR": dir, "HERD_INSTANCE_ID": "b"})
	replicatest.Run(t, a.URL, b.URL)
}

func TestServeHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"herd", "serve", "--help"}, os.Getenv, io.Discard, &out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"HERD_ADDR", "HERD_INSTANCE_ID", "HERD_DATA_DIR", "HERD_DRAIN_DELAY", "HERD_SHUTDOWN_TIMEOUT", "DATABASE_URL", "REDIS_URL", "BLOB_URL", "HERD_MAX_FILE_SIZE"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("--help does not list %s", name)
		}
	}
}

func TestInvalidConfigurationNamesTheSetting(t *testing.T) {
	env := map[string]string{"HERD_DRAIN_DELAY": "forever", "HERD_DATA_DIR": t.TempDir()}
	err := run(context.Background(), []string{"herd", "serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HERD_DRAIN_DELAY") {
		t.Fatalf("run = %v, want an error naming HERD_DRAIN_DELAY", err)
	}
}

// TestDrain: at SIGTERM readiness turns 503 while liveness stays 200, a
// request in flight completes, and run returns nil (main exits 0).
func TestDrain(t *testing.T) {
	dir := t.TempDir()
	r := startReplica(t, map[string]string{"HERD_DATA_DIR": dir, "HERD_DRAIN_DELAY": "1s"})
	// A slow request in flight: an 8 MiB upload trickled over ~1.5 s.
	access := loginOn(t, r.URL)
	inFlight := make(chan int, 1)
	go func() {
		pr, pw := io.Pipe()
		go func() {
			chunk := bytes.Repeat([]byte("x"), 1<<20)
			for range 8 {
				pw.Write(chunk)
				time.Sleep(180 * time.Millisecond)
			}
			pw.Close()
		}()
		req, _ := http.NewRequest("PUT", r.URL+"/files/slow.bin", pr)
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			inFlight <- -1
			return
		}
		resp.Body.Close()
		inFlight <- resp.StatusCode
	}()
	time.Sleep(200 * time.Millisecond)
	r.cancel() // SIGTERM

	time.Sleep(100 * time.Millisecond)
	if code := get(t, r.URL+"/health/ready"); code != 503 {
		t.Errorf("ready during the drain = %d, want 503", code)
	}
	if code := get(t, r.URL+"/health/live"); code != 200 {
		t.Errorf("live during the drain = %d, want 200", code)
	}
	if code := <-inFlight; code != 201 {
		t.Errorf("request in flight at SIGTERM answered %d, want 201", code)
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("run returned %v after the drain, want nil", err)
		}
		r.done <- nil // for the cleanup's stop
	case <-time.After(30 * time.Second):
		t.Fatal("herd serve did not exit after the drain")
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func loginOn(t *testing.T, base string) string {
	t.Helper()
	body := `{"email":"drain-` + time.Now().Format("150405.000000000") + `@example.com","password":"correct horse"}`
	for _, path := range []string{"/auth/register", "/auth/login"} {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if path == "/auth/login" {
			tok, _, _ := strings.Cut(strings.SplitN(string(b), `"access_token":"`, 2)[1], `"`)
			return tok
		}
	}
	return ""
}

// TestBinaryExitsZeroOnSIGTERM runs the real binary and signals it, as a
// container runtime would.
func TestBinaryExitsZeroOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildHerd(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "HERD_ADDR=127.0.0.1:0", "HERD_DATA_DIR="+t.TempDir(), "HERD_DRAIN_DELAY=100ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"listening"`) {
				close(listening)
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case <-listening:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("herd serve did not start")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("herd serve after SIGTERM: %v", err)
	}
}

var herdBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "herd-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "herd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// buildHerd builds the herd binary once per test run.
func buildHerd(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := herdBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestReplicasStartTogetherOnANewDataDirectory: processes racing to create
// one SQLite file, its WAL and its schema all come up.
func TestReplicasStartTogetherOnANewDataDirectory(t *testing.T) {
	bin := buildHerd(t)
	for trial := range 3 {
		dir := t.TempDir()
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				cmd := exec.Command(bin, "migrate")
				cmd.Env = append(os.Environ(), "HERD_DATA_DIR="+dir)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("trial %d, process %d: %v\n%s", trial, i, err, out)
				}
			})
		}
		wg.Wait()
	}
}
