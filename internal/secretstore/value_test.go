package secretstore_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/platformguide/ssocutover/internal/secretstore"
)

func TestAValuePrintsMarshalsAndLogsRedacted(t *testing.T) {
	const secret = "the-scim-token-4f8a"
	v := secretstore.NewValue(secret)
	holder := struct {
		Token secretstore.Value `json:"token"`
		Name  string            `json:"name"`
	}{v, "x"}

	outputs := []string{
		v.String(), fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q %x", v, v, v, v, v, v),
		fmt.Sprintf("%+v", holder), fmt.Sprintf("%#v", holder),
		fmt.Errorf("wrapped: %w", errors.New(fmt.Sprint(v))).Error(),
	}
	data, err := json.Marshal(holder)
	require.NoError(t, err)
	outputs = append(outputs, string(data))

	var slogOut bytes.Buffer
	slog.New(slog.NewJSONHandler(&slogOut, nil)).Info("token", "value", v, "holder", holder)
	outputs = append(outputs, slogOut.String())

	core, logs := observer.New(zap.InfoLevel)
	zap.New(core).Info("token", zap.Any("value", v), zap.Stringer("s", v), zap.Any("holder", holder))
	for _, entry := range logs.All() {
		for key, field := range entry.ContextMap() {
			outputs = append(outputs, key+"="+fmt.Sprint(field))
		}
	}

	for _, out := range outputs {
		require.NotContains(t, out, secret)
		require.Contains(t, out, secretstore.Redacted, out)
	}
	require.Equal(t, secret, v.Reveal())
	require.True(t, secretstore.Value{}.IsZero())
	require.False(t, strings.Contains(fmt.Sprint([]secretstore.Value{v}), secret))
}
