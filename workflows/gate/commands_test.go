package gate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/workflows"
)

func TestCommandsAsCodeFencesEveryCommandAsTyped(t *testing.T) {
	long := SignalCommand("cutover-d-1234567890", workflows.OpApprove,
		workflows.GateDecision{Gate: workflows.GatePreflight, By: "NAME", Reason: "WHY", Override: true})
	short := StarterCommand("report", "cutover-d-1234567890")
	instructions := "Read every finding:\n\n    " + short + "\n\n" +
		"1. Approve:\n\n    " + long + "\n\n   Then wait.\n\nTo stop:\n\n    aws secretsmanager delete-secret --secret-id X\n"

	got := CommandsAsCode(instructions)
	require.Equal(t, []string{short, long, "aws secretsmanager delete-secret --secret-id X"}, CommandsIn(got),
		"every command comes back whole, as a shell reads the block")
	require.Contains(t, got, "Read every finding:\n\n```sh\n"+short+"\n```\n")
	require.Contains(t, got, "1. Approve:\n\n    ```sh\n    temporal workflow signal", "inside a numbered step the block is indented by four spaces")
	inBlock := false
	for _, line := range strings.Split(got, "\n") {
		if strings.TrimSpace(line) == "```sh" || strings.TrimSpace(line) == "```" {
			inBlock = !inBlock
			continue
		}
		require.False(t, !inBlock && isCommand(strings.TrimSpace(line)), "no command is left outside a block: %q", line)
		if inBlock && !strings.Contains(line, "'{") {
			require.LessOrEqual(t, len(strings.TrimSpace(line)), maxCommandWidth, "a long command wraps: %q", line)
		}
	}
	require.Equal(t, got, CommandsAsCode(got), "fencing twice changes nothing")
}

func TestWrapCommandKeepsFlagsWithTheirValues(t *testing.T) {
	command := "starter submit-scim --workflow-id scim-token-rotation-d-1234567890-2027-02-01T09:00:00Z --endpoint URL --token-file FILE --by NAME"
	lines := wrapCommand(command, 60)
	require.Greater(t, len(lines), 1)
	for i, l := range lines {
		if i < len(lines)-1 {
			require.True(t, strings.HasSuffix(l, " \\"), l)
		}
		if i > 0 {
			require.True(t, strings.HasPrefix(l, "  --"), "a continuation starts with a flag, its value beside it: %q", l)
		}
	}
}
