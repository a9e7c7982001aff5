package register

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/platformguide/ssocutover/workflows"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Histories recorded from real runs (internal/e2e writes them when
// SSOCUTOVER_RECORD_HISTORY names this folder) must replay on the current
// code: a change that alters the commands of a running cutover without
// workflow.GetVersion fails here instead of in production.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "workflows/testdata holds recorded histories")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := os.Open(file)
			require.NoError(t, err)
			defer f.Close()
			history, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			require.NoError(t, err)

			// The cutover checks that it runs under the workflow ID of its
			// identity store, so replay it under that ID.
			started := history.Events[0].GetWorkflowExecutionStartedEventAttributes()
			var req workflows.CutoverRequest
			require.NoError(t, json.Unmarshal(started.GetInput().GetPayloads()[0].GetData(), &req))
			id := workflows.CutoverWorkflowID(req.IdentityStoreID)
			if started.GetWorkflowType().GetName() == workflows.RotationWorkflowName {
				id = workflows.RotationScheduleID(req.IdentityStoreID) + "-replayed"
			}

			replayer := worker.NewWorkflowReplayer()
			Workflows(replayer)
			require.NoError(t, replayer.ReplayWorkflowHistoryWithOptions(nil, history, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: id, RunID: started.GetOriginalExecutionRunId()},
			}))
		})
	}
}
