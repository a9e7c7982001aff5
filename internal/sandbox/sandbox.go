// Package sandbox serves a world over the real wire protocols of the APIs the
// cutover uses: AWS (JSON 1.1 for identitystore, sso-admin and Secrets
// Manager, the Query protocol for IAM) on one listener and Microsoft Graph
// v1.0 on another. The real SDK clients talk to it by endpoint configuration
// alone, so what runs against the sandbox is what runs against AWS and
// Entra.
package sandbox

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/platformguide/ssocutover/internal/world"
)

// Options configure a sandbox.
type Options struct {
	// AWSAddr and GraphAddr are the listen addresses; empty means a free
	// port on 127.0.0.1.
	AWSAddr   string
	GraphAddr string
	Faults    Faults
	// Graph configures the Microsoft half (graph_options.go).
	Graph GraphOptions
}

// Sandbox is a running sandbox.
type Sandbox struct {
	// AWSURL is the endpoint for AWS_ENDPOINT_URL.
	AWSURL string
	// GraphURL is the Graph service root, without the version (append /v1.0).
	GraphURL string

	servers []*http.Server
	aws     *awsServer
	graph   *graphServer
}

// Start serves w until Close.
func Start(w *world.World, opts Options) (*Sandbox, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	s := &Sandbox{aws: newAWSServer(w), graph: newGraphServer(w, opts.Graph)}
	awsURL, err := s.serve(opts.AWSAddr, withQueryFaultFormat(withFaults(opts.Faults, awsFaultWriter, s.aws)))
	if err != nil {
		return nil, err
	}
	graphURL, err := s.serve(opts.GraphAddr, withFaults(opts.Faults, graphFaultWriter, s.graph))
	if err != nil {
		s.Close()
		return nil, err
	}
	s.AWSURL, s.GraphURL = awsURL, graphURL
	return s, nil
}

func (s *Sandbox) serve(addr string, h http.Handler) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the servers.
func (s *Sandbox) Close() {
	for _, srv := range s.servers {
		srv.Close()
	}
	if s.graph != nil {
		s.graph.sync.close()
	}
}
