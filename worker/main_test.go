package main

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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

	cmd, err := newCommand(&bytes.Buffer{}, func(string) string { return "" })
	require.NoError(t, err)
	cmd.SetArgs([]string{"--address", addr, "--log-level", "error", "--data-dir", t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = cmd.ExecuteContext(ctx)
	require.ErrorContains(t, err, "cannot reach the Temporal server at "+addr)
	require.ErrorContains(t, err, "make dev-server")
}
