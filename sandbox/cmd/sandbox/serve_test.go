package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// serve runs `sandbox serve --json` until the test ends and returns the
// endpoints it printed.
func serve(t *testing.T) endpoints {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, in := io.Pipe()
	done := make(chan error, 1)
	go func() {
		root := newRootCommand(in, io.Discard, func(string) string { return "" })
		root.SetArgs([]string{"serve", "--json"})
		done <- root.ExecuteContext(ctx)
		in.Close()
	}()
	t.Cleanup(func() {
		cancel()
		go func() { _, _ = io.Copy(io.Discard, out) }()
		require.NoError(t, <-done, "serve stops cleanly when its context ends")
	})
	var e endpoints
	require.NoError(t, json.NewDecoder(out).Decode(&e))
	return e
}

func TestServePrintsEndpointsThatAnswer(t *testing.T) {
	e := serve(t)
	require.Contains(t, e.Env, "AWS_ENDPOINT_URL="+e.AWSURL)
	require.Contains(t, e.Env, "SSOCUTOVER_GRAPH_URL="+e.GraphURL)
	require.Contains(t, e.Env, "AWS_REGION="+world.Sample().AWS.Region)

	// The console steps reach the served sandbox through the printed URL.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, err := sandbox.NewConsoleClient(e.AWSURL, nil).IdentitySource(ctx)
	require.NoError(t, err)
	require.Equal(t, world.Sample().AWS.IdentityStoreID, status.IdentityStoreID)
	require.Equal(t, sandbox.IdentitySourceBuiltIn, status.Source)
}

func TestConsoleSaysWhereTheSandboxMustBe(t *testing.T) {
	var out bytes.Buffer
	root := newRootCommand(&out, &out, func(string) string { return "" })
	root.SetArgs([]string{"console", "identity-source"})
	require.ErrorContains(t, root.Execute(), "--sandbox-url or SSOCUTOVER_SANDBOX_URL")
}
