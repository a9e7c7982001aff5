package workflows

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeDecisionIsStrict(t *testing.T) {
	d, err := decodeDecision(json.RawMessage(`{"gate":"preflight","by":"alice","reason":"ok","override":true}`))
	require.NoError(t, err)
	require.Equal(t, GateDecision{Gate: GatePreflight, By: "alice", Reason: "ok", Override: true}, d)

	for input, want := range map[string]string{
		``:                                 "no input",
		`  `:                               "no input",
		`{"gate":"preflight","by":"a"} {}`: "more than one JSON value",
		`{"gate":"preflight","who":"a"}`:   `unknown field "who"`,
		`{"gate":"preflight","by":7}`:      "input is not a gate decision",
		`"approve"`:                        "input is not a gate decision",
	} {
		_, err := decodeDecision(json.RawMessage(input))
		require.ErrorContains(t, err, want, "input %q", input)
	}
}

func TestClipCutsAtACharacterBoundary(t *testing.T) {
	require.Equal(t, "short", clip("short", 10))
	require.Equal(t, "abc...", clip("abcdef", 3))
	// "é" is two bytes: cutting at byte 3 would split the second one.
	require.Equal(t, "aé...", clip("aéé", 3))
}

func TestOrList(t *testing.T) {
	require.Equal(t, "approve", orList([]string{OpApprove}))
	require.Equal(t, "approve or reject", orList([]string{OpApprove, OpReject}))
	require.Equal(t, "approve, reject or recheck", orList([]string{OpApprove, OpReject, OpRecheck}))
}
