package gate

import (
	"encoding/json"
	"testing"

	"github.com/platformguide/ssocutover/workflows"
	"github.com/stretchr/testify/require"
)

func TestDecodeDecisionIsStrict(t *testing.T) {
	d, err := decodeDecision(json.RawMessage(`{"gate":"preflight","by":"alice","reason":"ok","override":true}`))
	require.NoError(t, err)
	require.Equal(t, workflows.GateDecision{Gate: workflows.GatePreflight, By: "alice", Reason: "ok", Override: true}, d)

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
	require.Equal(t, "short", workflows.Clip("short", 10))
	require.Equal(t, "abc...", workflows.Clip("abcdef", 3))
	// "é" is two bytes: cutting at byte 3 would split the second one.
	require.Equal(t, "aé...", workflows.Clip("aéé", 3))
}

func TestOrList(t *testing.T) {
	require.Equal(t, "approve", OrList([]string{workflows.OpApprove}))
	require.Equal(t, "approve or reject", OrList([]string{workflows.OpApprove, workflows.OpReject}))
	require.Equal(t, "approve, reject or recheck", OrList([]string{workflows.OpApprove, workflows.OpReject, workflows.OpRecheck}))
}
