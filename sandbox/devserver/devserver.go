package devserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/platformguide/ssocutover/internal/temporalclient"
)

// EnvTemporalCLI names the Temporal CLI binary; the Makefile sets it to the
// one it builds into bin/.
const EnvTemporalCLI = "SSOCUTOVER_TEMPORAL_CLI"

// FindTemporalCLI returns the Temporal CLI to run the dev server with:
// explicit if given, else $SSOCUTOVER_TEMPORAL_CLI, else bin/temporal beside
// the running executable (bin/demo), else bin/temporal in the working
// directory or one of its parents (the repository root), else temporal on
// the PATH. It never downloads one: the error says how to build it.
func FindTemporalCLI(explicit string, getenv func(string) string) (string, error) {
	if explicit == "" {
		explicit = getenv(EnvTemporalCLI)
	}
	if explicit != "" {
		if !isExecutable(explicit) {
			return "", fmt.Errorf("the Temporal CLI %s does not exist or is not executable: build it with `make tools`", explicit)
		}
		return explicit, nil
	}
	var looked []string
	if exe, err := os.Executable(); err == nil {
		candidate := filepath.Join(filepath.Dir(exe), "temporal")
		looked = append(looked, candidate)
		if isExecutable(candidate) {
			return candidate, nil
		}
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			candidate := filepath.Join(dir, "bin", "temporal")
			looked = append(looked, candidate)
			if isExecutable(candidate) {
				return candidate, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	if path, err := exec.LookPath("temporal"); err == nil {
		return path, nil
	}
	looked = append(looked, "temporal on the PATH")
	return "", fmt.Errorf("the Temporal CLI was not found (looked at %s). Build it from the repository with `make tools` "+
		"(it builds tools/go.mod's github.com/temporalio/cli/cmd/temporal into bin/temporal), or pass --temporal-cli PATH",
		strings.Join(looked, ", "))
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0
}

// Options describe a local Temporal dev server.
type Options struct {
	// CLIPath is the Temporal CLI binary (see FindTemporalCLI).
	CLIPath string
	// IP to bind; default 127.0.0.1 (the server is for this machine only).
	IP string
	// Port is the gRPC port (0: a free one); UIPort the UI's (0: a free
	// one); Headless runs no UI.
	Port     int
	UIPort   int
	Headless bool
	// UICodecEndpoint is the codec server the UI decodes payloads with
	// (see internal/codec); empty shows them as the server stores them.
	UICodecEndpoint string
	// DBFile keeps the server's state in SQLite; empty keeps it in memory.
	DBFile string
	// Log receives the server's output; nil discards it.
	Log io.Writer
	// StartTimeout bounds the wait for the server to become healthy.
	StartTimeout time.Duration
}

// Server is a running `temporal server start-dev`.
type Server struct {
	// Address is the gRPC host:port; UIURL is "" when headless.
	Address string
	UIURL   string

	cmd    *exec.Cmd
	exited chan struct{}
	// waitErr is cmd.Wait's result, set before exited is closed.
	waitErr error
	output  *tailBuffer
}

// Start runs the dev server and waits until it answers a health
// check. If the process exits first (a port taken, a locked database), the
// error carries the end of its output.
func Start(ctx context.Context, opts Options, logger *zap.Logger) (*Server, error) {
	if opts.CLIPath == "" {
		return nil, errors.New("dev server: no Temporal CLI path")
	}
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = time.Minute
	}
	var err error
	if opts.Port, err = portOrFree(opts.IP, opts.Port, "--port"); err != nil {
		return nil, err
	}
	if !opts.Headless {
		if opts.UIPort, err = portOrFree(opts.IP, opts.UIPort, "--ui-port"); err != nil {
			return nil, err
		}
	}

	args := []string{"server", "start-dev",
		"--ip", opts.IP,
		"--port", strconv.Itoa(opts.Port),
		"--log-format", "json",
		// The server would otherwise call home to check its version.
		"--dynamic-config-value", "frontend.enableServerVersionCheck=false",
	}
	if opts.Headless {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(opts.UIPort))
		if opts.UICodecEndpoint != "" {
			args = append(args, "--ui-codec-endpoint", opts.UICodecEndpoint)
		}
	}
	if opts.DBFile != "" {
		if err := os.MkdirAll(filepath.Dir(opts.DBFile), 0o700); err != nil {
			return nil, fmt.Errorf("dev server: %w", err)
		}
		args = append(args, "--db-filename", opts.DBFile)
	}

	s := &Server{
		Address: net.JoinHostPort(opts.IP, strconv.Itoa(opts.Port)),
		exited:  make(chan struct{}),
		output:  &tailBuffer{max: 8 << 10},
	}
	if !opts.Headless {
		s.UIURL = "http://" + net.JoinHostPort(opts.IP, strconv.Itoa(opts.UIPort))
	}
	var out io.Writer = s.output
	if opts.Log != nil {
		out = io.MultiWriter(opts.Log, s.output)
	}
	// Not CommandContext: the server is stopped by Stop, gently, after the
	// worker that uses it.
	s.cmd = exec.Command(opts.CLIPath, args...)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	detachFromTerminalSignals(s.cmd)
	if logger != nil {
		logger.Info("Starting the Temporal dev server", zap.String("cli", opts.CLIPath), zap.Strings("args", args))
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the Temporal dev server (%s): %w", opts.CLIPath, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()

	if err := s.waitHealthy(ctx, opts.StartTimeout); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	conn := temporalclient.Options{Address: s.Address, Namespace: temporalclient.DefaultNamespace, ConnectTimeout: 2 * time.Second}
	for {
		c, err := conn.Dial(ctx, nil)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("the Temporal dev server exited before it was ready (%v); its last output:\n%s", s.waitErr, s.output.String())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the Temporal dev server at %s was not ready after %s; its last output:\n%s", s.Address, timeout, s.output.String())
		}
	}
}

// Stop asks the server to shut down (SIGINT, as Ctrl-C would) and waits for
// it; after ten seconds it is killed.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = interrupt(s.cmd.Process)
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("the Temporal dev server did not stop within 10s and was killed")
	}
}

// portOrFree returns port if it is free on ip, a free port if port is 0,
// and an error that names the flag to change if it is taken.
func portOrFree(ip string, port int, flag string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("port %d on %s is in use (another Temporal server, or an earlier demo still running?): stop it, or choose another port with %s", port, ip, flag)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf bytes.Buffer
	mu  sync.Mutex
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
