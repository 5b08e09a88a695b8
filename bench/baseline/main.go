// Command baseline is the floor herd's benchmark measures herd against: the
// routes the benchmark drives, on plain net/http, making exactly the backend
// calls herd makes (the same store packages, so the same SQL statements and
// Redis commands and scripts) and nothing else — no middleware chain, no
// request ids, no access log, no metrics, no problem documents, no request
// deadline. Every failure is a bare status code.
//
// It is a benchmark instrument, not a server to run: it serves only what
// bench/ measures.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/auth"
	"github.com/herdhq/herd/blob"
	"github.com/herdhq/herd/postgres"
	"github.com/herdhq/herd/redis"
)

// Lifetimes as herd serve's defaults, so the values sent to the backends
// are the same.
const (
	sessionIdle = 30 * time.Minute
	cacheTTL    = 5 * time.Minute
	refreshTTL  = 720 * time.Hour
	itemHold    = 2 * 10 * time.Second // twice HERD_REQUEST_TIMEOUT
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on; the chosen one is printed as \"listening <addr>\"")
	databaseURL := flag.String("database-url", "", "PostgreSQL URL, as herd's DATABASE_URL")
	schema := flag.String("schema", "", "PostgreSQL schema, as HERD_DB_SCHEMA")
	redisURL := flag.String("redis-url", "", "Redis URL, as REDIS_URL")
	prefix := flag.String("redis-prefix", "", "Redis key prefix, as HERD_REDIS_PREFIX")
	blobDir := flag.String("blob-dir", "", "folder of files, as HERD_DATA_DIR/blobs")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *databaseURL, *schema, *redisURL, *prefix, *blobDir); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr, databaseURL, schema, redisURL, prefix, blobDir string) error {
	pg, err := postgres.Open(ctx, postgres.Config{URL: databaseURL, Schema: schema})
	if err != nil {
		return err
	}
	defer pg.Close()
	rs, err := redis.Open(redis.Config{URL: redisURL, Prefix: prefix})
	if err != nil {
		return err
	}
	defer rs.Close()
	files, err := blob.OpenDir(ctx, blobDir)
	if err != nil {
		return err
	}
	defer files.Close()
	tokens, err := sharedTokens(ctx, pg)
	if err != nil {
		return err
	}

	f := &floor{pg: pg, rs: rs, files: files, tokens: tokens}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health/live", f.live)
	mux.HandleFunc("GET /me", f.authenticated(f.me))
	mux.HandleFunc("GET /session", f.session)
	mux.HandleFunc("POST /counters/{name}/increment", f.authenticated(f.increment))
	mux.HandleFunc("GET /items/{id}", f.authenticated(f.itemGet))
	mux.HandleFunc("PUT /items/{id}", f.authenticated(f.itemPut))
	mux.HandleFunc("GET /files/{key}", f.authenticated(f.fileGet))
	mux.HandleFunc("POST /auth/login", f.login)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("listening", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// sharedTokens verifies and signs with the key herd keeps in the database,
// so a token either server issued works on both.
func sharedTokens(ctx context.Context, pg *postgres.DB) (*auth.Tokens, error) {
	key, err := auth.SharedKey(ctx, pg)
	if err != nil {
		return nil, err
	}
	return auth.NewTokens(auth.Config{}, key), nil
}

type floor struct {
	pg     *postgres.DB
	rs     *redis.Store
	files  *blob.Store
	tokens *auth.Tokens
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *floor) live(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"ok"}` + "\n"))
}

type claimsKey struct{}

// authenticated makes herd's two checks: the token's signature and claims,
// then one revocation lookup in Redis.
func (f *floor) authenticated(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		c, err := f.tokens.VerifyAccess(token, time.Now())
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		revoked, err := f.rs.IsRevoked(r.Context(), c.FamilyID, c.ID)
		if err != nil || revoked {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	}
}

func (f *floor) me(w http.ResponseWriter, r *http.Request) {
	c := r.Context().Value(claimsKey{}).(auth.AccessClaims)
	writeJSON(w, struct {
		ID    string   `json:"id"`
		Email string   `json:"email"`
		Roles []string `json:"roles"`
	}{c.Subject, c.Email, c.Roles})
}

func (f *floor) session(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie("sid")
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	sess, err := f.rs.TouchSession(r.Context(), c.Value, sessionIdle)
	if err != nil {
		w.WriteHeader(status(err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, struct {
		UserID string `json:"user_id"`
		Email  string `json:"email"`
		Views  int64  `json:"views"`
	}{sess.UserID, sess.Email, sess.Views})
}

func (f *floor) increment(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	v, err := f.pg.Increment(r.Context(), name, "")
	if err != nil {
		w.WriteHeader(status(err))
		return
	}
	writeJSON(w, struct {
		Name  string `json:"name"`
		Value int64  `json:"value"`
	}{name, v})
}

type itemJSON struct {
	ID        string          `json:"id"`
	Data      json.RawMessage `json:"data"`
	Version   int64           `json:"version"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// itemGet is herd's cache-aside read without its miss coalescing: the
// benchmark reads a cached item, so a miss is not what is measured.
func (f *floor) itemGet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	it, hit, err := f.rs.CachedItem(r.Context(), id)
	if err != nil {
		w.WriteHeader(status(err))
		return
	}
	if !hit {
		if it, err = f.pg.Item(r.Context(), id); err != nil {
			w.WriteHeader(status(err))
			return
		}
		f.rs.CacheItem(r.Context(), it, cacheTTL)
	}
	if hit {
		w.Header().Set("X-Cache", "hit")
	} else {
		w.Header().Set("X-Cache", "miss")
	}
	writeJSON(w, itemJSON{it.ID, it.Data, it.Version, it.UpdatedAt.UTC()})
}

func (f *floor) itemPut(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, herd.MaxItemSize))
	if err != nil || !json.Valid(data) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// herd's write-through: hold the id in the cache, write, release it
	// with the new version (itemcache.Items.Put).
	id := r.PathValue("id")
	if err := f.rs.HoldItem(r.Context(), id, itemHold); err != nil {
		w.WriteHeader(status(err))
		return
	}
	it, err := f.pg.PutItem(r.Context(), id, data)
	if err != nil {
		w.WriteHeader(status(err))
		return
	}
	f.rs.ReleaseItem(r.Context(), it, cacheTTL)
	writeJSON(w, itemJSON{it.ID, it.Data, it.Version, it.UpdatedAt.UTC()})
}

func (f *floor) fileGet(w http.ResponseWriter, r *http.Request) {
	body, obj, err := f.files.Get(r.Context(), r.PathValue("key"))
	if err != nil {
		w.WriteHeader(status(err))
		return
	}
	defer body.Close()
	w.Header().Set("Content-Type", obj.ContentType)
	w.Header().Set("Content-Length", strconv.FormatInt(obj.Size, 10))
	io.Copy(w, body)
}

func (f *floor) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	u, err := f.pg.UserByEmail(r.Context(), strings.ToLower(strings.TrimSpace(in.Email)))
	if err != nil {
		w.WriteHeader(status(err))
		return
	}
	if ok, err := auth.CheckPassword(u.PasswordHash, in.Password); err != nil || !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	now := time.Now()
	familyID := auth.NewID()
	access, _, err := f.tokens.IssueAccess(auth.AccessSubject{UserID: u.ID, Email: u.Email, Roles: u.Roles}, familyID, now)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	refresh, hash, err := auth.NewRefreshToken()
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	err = f.pg.CreateRefreshToken(r.Context(), herd.RefreshToken{
		Hash: hash, FamilyID: familyID, UserID: u.ID, ExpiresAt: now.Add(refreshTTL),
	})
	if err != nil {
		w.WriteHeader(status(err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
	}{access, "Bearer", int64(f.tokens.AccessTTL() / time.Second), refresh})
}

func status(err error) int {
	switch herd.ErrorCode(err) {
	case herd.ENOTFOUND:
		return http.StatusNotFound
	case herd.EUNAUTHORIZED:
		return http.StatusUnauthorized
	}
	return http.StatusServiceUnavailable
}
