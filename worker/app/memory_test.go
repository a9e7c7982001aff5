package app

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	debug.SetMemoryLimit(1 << 40) // as if GOMEMLIMIT=1TiB had been read at start
	require.Equal(t, int64(1<<40), ApplyMemoryLimit(func(string) string { return "1TiB" }), "GOMEMLIMIT is left as it is")

	none := func(string) string { return "" }
	require.Equal(t, int64(DefaultMemoryLimit), ApplyMemoryLimit(none))
	require.Equal(t, int64(DefaultMemoryLimit), debug.SetMemoryLimit(-1))
}
