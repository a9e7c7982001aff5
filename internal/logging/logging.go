// Package logging builds the zap logger both binaries use and bridges it into
// the Temporal SDK, so the SDK's own lines (worker started, activity retried,
// ...) land in the same log with the same format.
package logging

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"
)

// Formats: JSON for a worker whose logs a collector reads, console for a
// person watching a terminal (the demo).
const (
	FormatJSON    = "json"
	FormatConsole = "console"
)

// Environment variables the binaries read for their defaults.
const (
	EnvFormat = "SSOCUTOVER_LOG_FORMAT"
	EnvLevel  = "SSOCUTOVER_LOG_LEVEL"
)

// New returns a logger writing to standard error in format ("json" or
// "console") at level ("debug", "info", "warn" or "error").
func New(format, level string) (*zap.Logger, error) {
	core, err := NewCore(format, level, zapcore.Lock(os.Stderr))
	if err != nil {
		return nil, err
	}
	return zap.New(core, zap.AddCaller(), zap.AddStacktrace(zapcore.ErrorLevel)), nil
}

// NewCore is New's core writing to w, for callers that log somewhere else
// than standard error (a file, a test buffer).
func NewCore(format, level string, w zapcore.WriteSyncer) (zapcore.Core, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(strings.ToLower(level))); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	var enc zapcore.Encoder
	switch format {
	case FormatJSON:
		cfg := zap.NewProductionEncoderConfig()
		cfg.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(cfg)
	case FormatConsole:
		cfg := zap.NewDevelopmentEncoderConfig()
		cfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		enc = zapcore.NewConsoleEncoder(cfg)
	default:
		return nil, fmt.Errorf("log format %q: want %s or %s", format, FormatJSON, FormatConsole)
	}
	return zapcore.NewCore(enc, w, lvl), nil
}

// SDKLogger is z as the Temporal SDK's logger: the SDK logs through slog,
// and zap's slog handler writes to z's core, keeping z's fields and level.
func SDKLogger(z *zap.Logger) log.Logger {
	handler := zapslog.NewHandler(z.Core(), zapslog.WithCaller(true), zapslog.WithName("temporal"))
	return log.NewStructuredLogger(slog.New(handler))
}
