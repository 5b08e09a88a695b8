package cluster

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestDownWithoutSupervisorReaps: the supervisor died without cleaning up;
// down stops what state.json names, and nothing that is not herd's.
func TestDownWithoutSupervisorReaps(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	dir := t.TempDir()
	// A stand-in replica whose command line looks like herd's.
	fake := filepath.Join(dir, "herd")
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, data, 0o755); err != nil {
		t.Fatal(err)
	}
	replica := exec.Command(fake, "60")
	stranger := exec.Command(sleep, "60")
	for _, c := range []*exec.Cmd{replica, stranger} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	}
	exited := make(chan struct{})
	go func() { replica.Wait(); close(exited) }()

	st := Status{Replicas: []ReplicaStatus{{Index: 0, PID: replica.Process.Pid}}, HAProxy: HAProxyStatus{PID: stranger.Process.Pid}}
	b, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(dir, "state.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Main(t.Context(), []string{"down", "--dir", dir}, os.Getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("down: %v", err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the replica the dead supervisor left is still running")
	}
	if !alive(stranger.Process.Pid) {
		t.Fatal("down signalled a process that is not herd's")
	}
}

func TestDownWithNothingThere(t *testing.T) {
	if err := Main(t.Context(), []string{"down", "--dir", t.TempDir()}, os.Getenv, io.Discard, io.Discard); err == nil {
		t.Fatal("down in an empty directory succeeded")
	}
}
