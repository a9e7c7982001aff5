package cli

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/codec"
)

// `starter codec-server --listen 0.0.0.0:8081` without TLS and a token
// exits with an error: it would decrypt every payload for anyone.
func TestCodecServerRefusesAnOpenAddress(t *testing.T) {
	keyLine, err := codec.NewKeyLine(time.Now())
	require.NoError(t, err)
	env := map[string]string{codec.EnvKeys: keyLine}
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{nil, "decrypt every payload for anyone"},
		{[]string{"--insecure-local"}, "decrypt every payload for anyone"},
		{[]string{"--tls-cert", filepath.Join(t.TempDir(), "cert.pem")}, "both a TLS certificate and its key"},
	} {
		var out bytes.Buffer
		root := NewRootCommand(&out, &out, func(k string) string { return env[k] })
		root.SetArgs(append([]string{"codec-server", "--listen", "0.0.0.0:8081"}, tc.extra...))
		require.ErrorContains(t, root.Execute(), tc.want, "%v", tc.extra)
	}
}

// On loopback too, no token means no server, unless --insecure-local says
// that any local process may read the payloads.
func TestCodecServerWantsATokenOrInsecureLocal(t *testing.T) {
	keyLine, err := codec.NewKeyLine(time.Now())
	require.NoError(t, err)
	env := map[string]string{codec.EnvKeys: keyLine}
	var out bytes.Buffer
	root := NewRootCommand(&out, &out, func(k string) string { return env[k] })
	root.SetArgs([]string{"codec-server", "--listen", "127.0.0.1:0"})
	require.ErrorContains(t, root.Execute(), "--insecure-local")
}
