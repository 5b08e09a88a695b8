package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// reap stops what a supervisor that died without cleaning up (SIGKILL, an
// OOM kill, a closed laptop) left running, from the PIDs in its state.json.
// A PID is signalled only while its command line is still one of ours: the
// kernel may have given a dead process's number to a stranger.
func reap(dir string, stdout io.Writer) error {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w (%s), and it left no state.json", ErrNotRunning, dir)
	}
	if err != nil {
		return err
	}
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	var pids []int
	for _, r := range st.Replicas {
		pids = append(pids, r.PID)
	}
	pids = append(pids, st.HAProxy.PID)
	for _, be := range st.Backends {
		pids = append(pids, be.PID)
	}
	var stopped []int
	for _, pid := range pids {
		if pid > 0 && ours(pid) && syscall.Kill(pid, syscall.SIGTERM) == nil {
			stopped = append(stopped, pid)
		}
	}
	// A replica drains before it exits; past the wait, it is killed.
	deadline := time.Now().Add(30 * time.Second)
	for _, pid := range stopped {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	fmt.Fprintf(stdout, "no supervisor answered; stopped %d processes it left running\n", len(stopped))
	return nil
}

// ours reports whether pid runs herd, HAProxy, or a private backend.
func ours(pid int) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	argv0 := filepath.Base(strings.SplitN(string(cmdline), "\x00", 2)[0])
	for _, name := range []string{"herd", "haproxy", "redis-server", "postgres"} {
		if strings.HasPrefix(argv0, name) {
			return true
		}
	}
	return false
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
