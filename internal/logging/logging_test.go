package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestSDKLoggerWritesToZap(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	z := zap.New(core).With(zap.String("component", "worker"))

	sdk := SDKLogger(z)
	sdk.Info("Started Worker", "TaskQueue", "ssocutover", "WorkerID", "w1")
	sdk.Debug("below the level: dropped")
	sdk.Warn("activity retried", "Attempt", 2)

	entries := logs.All()
	require.Len(t, entries, 2)
	require.Equal(t, "Started Worker", entries[0].Message)
	require.Equal(t, zapcore.InfoLevel, entries[0].Level)
	fields := entries[0].ContextMap()
	require.Equal(t, "ssocutover", fields["TaskQueue"])
	require.Equal(t, "w1", fields["WorkerID"])
	require.Equal(t, "worker", fields["component"], "fields of the zap logger carry over")
	require.Equal(t, zapcore.WarnLevel, entries[1].Level)
	require.EqualValues(t, 2, entries[1].ContextMap()["Attempt"])
}

func TestSDKLoggerWith(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	sdk := log.With(SDKLogger(zap.New(core)), "WorkflowID", "cutover-d-1234567890")
	sdk.Error("failed", "Error", "boom")
	require.Equal(t, 1, logs.Len())
	entry := logs.All()[0]
	require.Equal(t, zapcore.ErrorLevel, entry.Level)
	require.Equal(t, "cutover-d-1234567890", entry.ContextMap()["WorkflowID"])
	require.Equal(t, "boom", entry.ContextMap()["Error"])
}

func TestJSONFormat(t *testing.T) {
	var buf bytes.Buffer
	core, err := NewCore(FormatJSON, "info", zapcore.AddSync(&buf))
	require.NoError(t, err)
	SDKLogger(zap.New(core)).Info("hello", "n", 1)

	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	require.Equal(t, "hello", line["msg"])
	require.Equal(t, "info", line["level"])
	require.EqualValues(t, 1, line["n"])
}

func TestConsoleFormat(t *testing.T) {
	var buf bytes.Buffer
	core, err := NewCore(FormatConsole, "debug", zapcore.AddSync(&buf))
	require.NoError(t, err)
	zap.New(core).Debug("shown", zap.String("step", "inventory"))
	out := buf.String()
	require.Contains(t, out, "DEBUG")
	require.Contains(t, out, "shown")
	require.Contains(t, out, `"step": "inventory"`)
	require.False(t, strings.HasPrefix(strings.TrimSpace(out), "{"), "console output is not JSON: %s", out)
}

func TestNewRefusesUnknownFormatAndLevel(t *testing.T) {
	_, err := New("xml", "info")
	require.ErrorContains(t, err, `log format "xml"`)
	_, err = New(FormatJSON, "loud")
	require.ErrorContains(t, err, `log level "loud"`)
	z, err := New(FormatJSON, "WARN")
	require.NoError(t, err)
	require.False(t, z.Core().Enabled(zapcore.InfoLevel))
	require.True(t, z.Core().Enabled(zapcore.WarnLevel))
}
