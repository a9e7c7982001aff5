package store

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDataDirFromEnvAndTheStoreInIt(t *testing.T) {
	require.Equal(t, DefaultDataDir, DataDirFromEnv(func(string) string { return "" }))
	dir := DataDirFromEnv(func(k string) string { return map[string]string{EnvDataDir: "/var/lib/ssocutover"}[k] })
	require.Equal(t, "/var/lib/ssocutover", dir)
	require.Equal(t, filepath.Join("/var/lib/ssocutover", "store"), DirIn(dir))
}
