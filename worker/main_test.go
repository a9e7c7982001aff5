package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/codec"
)

func TestWorkerRefusesABadSetting(t *testing.T) {
	_, err := newCommand(&bytes.Buffer{}, func(k string) string {
		if k == "SSOCUTOVER_AWS_RPS" {
			return "lots"
		}
		return ""
	})
	require.ErrorContains(t, err, `SSOCUTOVER_AWS_RPS="lots"`)
}

func TestWorkerSaysWhenTemporalIsNotThere(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	key, err := codec.NewKeyLine(time.Now())
	require.NoError(t, err)
	cmd, err := newCommand(&bytes.Buffer{}, func(k string) string {
		if k == codec.EnvKeys {
			return key
		}
		return ""
	})
	require.NoError(t, err)
	cmd.SetArgs([]string{"--address", addr, "--log-level", "error", "--data-dir", t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = cmd.ExecuteContext(ctx)
	require.ErrorContains(t, err, "cannot reach the Temporal server at "+addr)
	require.ErrorContains(t, err, "make dev-server")
}

// Without a key the worker stops before connecting anywhere, and says how to
// make one; a key file others can read is refused too.
func TestWorkerRefusesToStartWithoutAKey(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	start := func(getenv func(string) string, args ...string) error {
		cmd, err := newCommand(&bytes.Buffer{}, getenv)
		require.NoError(t, err)
		cmd.SetArgs(append([]string{"--address", addr, "--log-level", "error", "--data-dir", t.TempDir()}, args...))
		return cmd.ExecuteContext(context.Background())
	}
	err = start(func(string) string { return "" })
	require.ErrorIs(t, err, codec.ErrNoKey)
	require.ErrorContains(t, err, "starter codec-key")
	require.ErrorContains(t, err, "openssl rand -base64 32")
	require.NotContains(t, err.Error(), "cannot reach", "the key is checked before Temporal")

	keyFile := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, codec.WriteNewKeyFile(keyFile, time.Now()))
	require.NoError(t, os.Chmod(keyFile, 0o644))
	err = start(func(string) string { return "" }, "--codec-key-file", keyFile)
	require.ErrorContains(t, err, "chmod 600 "+keyFile)

	require.NoError(t, os.Chmod(keyFile, 0o600))
	err = start(func(string) string { return "" }, "--codec-key-file", keyFile, "--connect-timeout", "1s")
	require.ErrorContains(t, err, "cannot reach the Temporal server", "with the key it goes on to connect")
}
