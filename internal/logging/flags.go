package logging

import (
	"cmp"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
)

// Flags are the --log-format and --log-level flags every binary has.
type Flags struct {
	Format, Level string
}

// Register adds the flags to fs. Their defaults come from the environment
// (EnvFormat, EnvLevel), else format and level: each binary has its own.
func (f *Flags) Register(fs *pflag.FlagSet, getenv func(string) string, format, level string) {
	fs.StringVar(&f.Format, "log-format", cmp.Or(getenv(EnvFormat), format), "log format: json or console (env "+EnvFormat+")")
	fs.StringVar(&f.Level, "log-level", cmp.Or(getenv(EnvLevel), level), "log level: debug, info, warn or error (env "+EnvLevel+")")
}

// Logger is the logger the flags ask for.
func (f Flags) Logger() (*zap.Logger, error) {
	return New(f.Format, f.Level)
}
