package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A service with the two classic mistakes: a cache and a counter in a
// struct its handler updates.
const stateful = `package main

import (
	"fmt"
	"net/http"
)

type Service struct {
	cache   map[string]string
	counter int
}

func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.counter++
	s.cache[r.URL.Path] = r.URL.RawQuery
	fmt.Fprintln(w, s.counter)
}

func main() {
	http.ListenAndServe(":8080", &Service{cache: map[string]string{}})
}
`

// The same service with its state kept elsewhere.
const clean = `package main

import (
	"fmt"
	"net/http"
	"regexp"
)

type Counter interface{ Incr(key string) int }

type Service struct{ counts Counter }

var path = regexp.MustCompile("^/[a-z]+$")

func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !path.MatchString(r.URL.Path) {
		http.NotFound(w, r)
		return
	}
	fmt.Fprintln(w, s.counts.Incr(r.URL.Path))
}

func main() { http.ListenAndServe(":8080", &Service{}) }
`

// TestDrivers builds statelint and runs it the two ways the docs promise,
// standalone and as go vet's tool, on a module with state and one without.
func TestDrivers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs the go tool")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	bin := filepath.Join(t.TempDir(), "statelint")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	drivers := map[string][]string{
		"standalone": {bin, "./..."},
		"go vet":     {goTool, "vet", "-vettool=" + bin, "./..."},
	}
	for name, args := range drivers {
		t.Run(name+"/stateful", func(t *testing.T) {
			out, code := run(t, module(t, stateful), args)
			if code == 0 {
				t.Errorf("exit status 0, want failure; output:\n%s", out)
			}
			for _, want := range []string{
				"counter field Service.counter is incremented while serving requests",
				"map field Service.cache is written while serving requests",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
		t.Run(name+"/clean", func(t *testing.T) {
			out, code := run(t, module(t, clean), args)
			if code != 0 || strings.TrimSpace(out) != "" {
				t.Errorf("exit status %d, output:\n%s\nwant 0 and nothing", code, out)
			}
		})
	}
}

// module writes a one-file module without dependencies, so that no network
// is needed.
func module(t *testing.T, src string) string {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/fixture\n\ngo 1.22\n",
		"main.go": src,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func run(t *testing.T, dir string, args []string) (string, int) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	default:
		t.Fatalf("%v: %v", args, err)
		return "", 0
	}
}
