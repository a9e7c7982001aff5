package codec

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/converter"
)

// The codec server speaks Temporal's remote codec protocol: POST /encode and
// POST /decode (also under a namespace prefix, /{namespace}/decode, as the
// CLI's --codec-endpoint template makes them) with a body
// {"payloads":[...]} of payloads in protobuf JSON, answered in kind. The
// Temporal UI calls it from the browser, so it answers CORS preflights for
// the UI's origin; it also sends X-Namespace, and Authorization when a token
// is configured.

// MaxRequestBytes bounds a request body: a history's payloads are at most
// a few MiB each (the server refuses larger ones).
const MaxRequestBytes = 64 << 20

// ServerOptions configure the codec server.
type ServerOptions struct {
	Codec *Codec
	// AllowedOrigins are the origins (scheme://host:port) of Temporal UIs
	// that may call from a browser, such as the dev server's
	// http://127.0.0.1:8233. A request from any other origin is refused;
	// the CLI sends none.
	AllowedOrigins []string
	// BearerToken, when set, must come as "Authorization: Bearer <token>"
	// with every encode and decode (temporal --codec-auth 'Bearer <token>').
	BearerToken string
	// TLSCertFile and TLSKeyFile, when set, make the server speak HTTPS.
	TLSCertFile, TLSKeyFile string
	// InsecureLocal accepts any caller without a token, on loopback only
	// (--insecure-local): every process and user of this machine can then
	// read every payload, which is the demo's bargain, not production's.
	InsecureLocal bool
}

// NewHandler returns the codec server's HTTP handler.
func NewHandler(opts ServerOptions) *Handler {
	return &Handler{opts: opts, codec: converter.NewPayloadCodecHTTPHandler(opts.Codec)}
}

// Handler is the codec server's HTTP handler.
type Handler struct {
	opts  ServerOptions
	codec http.Handler

	mu           sync.RWMutex
	laterOrigins []string
}

// AllowOrigin lets one more UI origin call, for a UI whose address is known
// only once the codec server runs (the demo's dev server).
func (h *Handler) AllowOrigin(origin string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.laterOrigins = append(h.laterOrigins, origin)
}

func (h *Handler) allowed(origin string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Contains(h.opts.AllowedOrigins, origin) || slices.Contains(h.laterOrigins, origin)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" {
		if !h.allowed(origin) {
			http.Error(w, fmt.Sprintf("origin %s may not call this codec server: start it with --ui-origin %s", origin, origin), http.StatusForbidden)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/encode") && !strings.HasSuffix(r.URL.Path, "/decode") {
		http.Error(w, "this codec server answers POST /encode and POST /decode", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ssocutover codec"`)
		http.Error(w, "this codec server needs Authorization: Bearer <token> (temporal --codec-auth 'Bearer <token>')", http.StatusUnauthorized)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	h.codec.ServeHTTP(w, r)
}

// authorized checks the bearer token in constant time, when there is one.
func (h *Handler) authorized(r *http.Request) bool {
	if h.opts.BearerToken == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(h.opts.BearerToken)) == 1
}

// Server is a running codec server.
type Server struct {
	// URL is its base URL, http://host:port (https with TLS).
	URL     string
	Handler *Handler
	http    *http.Server
	done    chan error
}

// Listen starts a codec server on addr (host:port; port 0 picks a free one).
func Listen(addr string, opts ServerOptions) (*Server, error) {
	if opts.Codec == nil {
		return nil, errors.New("the codec server needs a codec")
	}
	withTLS := opts.TLSCertFile != "" || opts.TLSKeyFile != ""
	if withTLS && (opts.TLSCertFile == "" || opts.TLSKeyFile == "") {
		return nil, errors.New("the codec server needs both a TLS certificate and its key (--tls-cert and --tls-key)")
	}
	// It decrypts every payload for whoever asks: beyond this machine only
	// with a token, over TLS.
	if !loopbackAddress(addr) && (opts.BearerToken == "" || !withTLS) {
		return nil, fmt.Errorf("the codec server would decrypt every payload for anyone who reaches %s: an address other than loopback needs a bearer token (%s) and TLS (--tls-cert, --tls-key); or listen on 127.0.0.1", addr, envServerToken)
	}
	// On loopback too a token is the rule: every process and user of the
	// machine reaches it.
	if opts.BearerToken == "" && !opts.InsecureLocal {
		return nil, fmt.Errorf("the codec server would decrypt every payload for any process on this machine: set a bearer token (%s; the CLI then sends --codec-auth 'Bearer <token>'), or pass --insecure-local to accept any local caller", envServerToken)
	}
	var cert tls.Certificate
	if withTLS {
		var err error
		if cert, err = tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile); err != nil {
			return nil, fmt.Errorf("the codec server cannot load its TLS certificate: %w", err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("the codec server cannot listen on %s: %w (pick another with --listen)", addr, err)
	}
	scheme := "http://"
	if withTLS {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https://"
	}
	h := NewHandler(opts)
	s := &Server{
		URL:     scheme + ln.Addr().String(),
		Handler: h,
		http:    &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		done:    make(chan error, 1),
	}
	go func() { s.done <- s.http.Serve(ln) }()
	return s, nil
}

// envServerToken names the token's environment variable in errors; the
// starter reads it (cli.EnvCodecServerToken).
const envServerToken = "SSOCUTOVER_CODEC_SERVER_TOKEN"

// loopbackAddress reports whether addr (host:port) listens on this machine
// only: a loopback IP or localhost. An empty host listens everywhere.
func loopbackAddress(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Close stops the server, letting requests in flight finish for a moment.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}
