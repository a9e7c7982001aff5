package devserver

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/platformguide/ssocutover/internal/temporalclient"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestFindTemporalCLI(t *testing.T) {
	_, err := FindTemporalCLI(filepath.Join(t.TempDir(), "temporal"), env(nil))
	require.ErrorContains(t, err, "make tools")

	fake := filepath.Join(t.TempDir(), "temporal")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755))
	got, err := FindTemporalCLI("", env(map[string]string{EnvTemporalCLI: fake}))
	require.NoError(t, err)
	require.Equal(t, fake, got)

	// Without a setting, bin/temporal of the repository is found from a
	// folder inside it (tests run in the package's folder).
	got, err = FindTemporalCLI("", env(nil))
	require.NoError(t, err, "build the CLI with `make tools`")
	require.Equal(t, "temporal", filepath.Base(got))
}

func TestDevServerReportsAPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	_, err = Start(context.Background(), Options{CLIPath: "/bin/true", Port: port, Headless: true}, nil)
	require.ErrorContains(t, err, "port "+strconv.Itoa(port)+" on 127.0.0.1 is in use")
	require.ErrorContains(t, err, "--port")
}

func TestDevServerThatExitsEarlyShowsItsOutput(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "temporal")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho 'database is locked' >&2\nexit 3\n"), 0o755))
	_, err := Start(context.Background(), Options{CLIPath: fake, Headless: true}, nil)
	require.Error(t, err)
	// Noticed as an exit, not as a server that stayed unready until the
	// start timeout (whose error says "was not ready after").
	require.Contains(t, err.Error(), "exited before it was ready")
	require.NotContains(t, err.Error(), "was not ready after")
	require.Contains(t, err.Error(), "database is locked")
}

func TestDevServerStartsAndStops(t *testing.T) {
	cli, err := FindTemporalCLI("", os.Getenv)
	require.NoError(t, err, "build the CLI with `make tools`")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	server, err := Start(ctx, Options{CLIPath: cli, DBFile: filepath.Join(dir, "temporal.db")}, nil)
	require.NoError(t, err)
	require.NotEmpty(t, server.UIURL)

	c, err := temporalclient.Options{Address: server.Address}.Dial(ctx, nil)
	require.NoError(t, err)
	_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
	require.NoError(t, err)
	c.Close()

	require.NoError(t, server.Stop())
	require.FileExists(t, filepath.Join(dir, "temporal.db"))
	ln, err := net.Listen("tcp", server.Address)
	require.NoError(t, err, "the port is free again once the server stopped")
	ln.Close()
}
