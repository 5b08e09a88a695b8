// An upload service that keeps files on the replica's disk.
package uploads

import (
	"io"
	"io/ioutil"
	"net/http"
	"os"
	"path/filepath"
)

const dir = "data/uploads"

type Server struct {
	root string
}

// New prepares the data directory while the program starts.
func New(root string) (*Server, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	return &Server{root: root}, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPut:
		s.save(w, r)
	case http.MethodDelete:
		os.Remove(filepath.Join(s.root, r.URL.Path)) // want `os.Remove writes to this replica's local disk while serving requests: other replicas cannot see the file`
	case http.MethodGet:
		f, err := os.Open(filepath.Join(s.root, r.URL.Path))
		if err == nil {
			defer f.Close()
			io.Copy(w, f)
		}
		g, err := os.OpenFile(filepath.Join(s.root, "index"), os.O_RDONLY, 0)
		if err == nil {
			g.Close()
		}
	}
}

func (s *Server) save(w http.ResponseWriter, r *http.Request) {
	name := filepath.Join(s.root, filepath.Base(r.URL.Path))
	data, _ := io.ReadAll(r.Body)
	os.WriteFile(name, data, 0o644)   // want `os.WriteFile writes to this replica's local disk`
	f, _ := os.Create(name + ".meta") // want `os.Create writes`
	f.Close()
	log, _ := os.OpenFile(filepath.Join(s.root, "log"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644) // want `os.OpenFile writes`
	log.Close()
	os.Mkdir(filepath.Join(s.root, "thumbs"), 0o755) // want `os.Mkdir writes`
	ioutil.WriteFile(name+".bak", data, 0o644)       // want `ioutil.WriteFile writes`
	s.publish(name)
}

// publish moves a finished upload into place; handlers call it.
func (s *Server) publish(name string) {
	os.Rename(name, filepath.Join(s.root, "public", filepath.Base(name))) // want `os.Rename writes`
}

// Temporary files are fine: they are scratch space for one request.
func convert(w http.ResponseWriter, r *http.Request) {
	tmp, err := os.CreateTemp("", "convert-*")
	if err != nil {
		return
	}
	defer os.Remove(tmp.Name())
	io.Copy(tmp, r.Body)
	work, _ := os.MkdirTemp("", "work")
	defer os.RemoveAll(work)
	out := filepath.Join(work, "out.png")
	os.WriteFile(out, nil, 0o600)
	os.WriteFile(filepath.Join(os.TempDir(), "last-convert"), nil, 0o600)
	os.Rename(tmp.Name(), filepath.Join(work, "in"))
}

// Cleanup runs from a cron job, not from a handler: nothing serves requests here.
func Cleanup() error { return os.RemoveAll(dir) }

// export writes a report file on purpose; the reason is given.
//
//statelint:ignore exports go to a volume shared by all replicas
func export(w http.ResponseWriter, r *http.Request) {
	os.WriteFile("/shared/report.csv", nil, 0o644)
}

func trace(w http.ResponseWriter, r *http.Request) {
	os.WriteFile("trace.out", nil, 0o644) //statelint:ignore debug endpoint, off in production
}

func Routes(s *Server) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/files/", s)
	mux.HandleFunc("/convert", convert)
	mux.HandleFunc("/export", export)
	mux.HandleFunc("/trace", trace)
	return mux
}
