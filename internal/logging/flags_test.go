package logging

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

func TestFlagsTakeTheEnvironmentThenTheBinarysDefault(t *testing.T) {
	parse := func(env map[string]string, args ...string) Flags {
		var f Flags
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		f.Register(fs, func(k string) string { return env[k] }, FormatJSON, "info")
		require.NoError(t, fs.Parse(args))
		return f
	}
	require.Equal(t, Flags{Format: FormatJSON, Level: "info"}, parse(nil))
	require.Equal(t, Flags{Format: FormatConsole, Level: "debug"}, parse(map[string]string{EnvFormat: FormatConsole, EnvLevel: "debug"}))
	require.Equal(t, Flags{Format: FormatJSON, Level: "error"}, parse(map[string]string{EnvFormat: FormatConsole}, "--log-format", "json", "--log-level", "error"))

	_, err := Flags{Format: "xml", Level: "info"}.Logger()
	require.Error(t, err, "an unknown format is refused, not ignored")
}
