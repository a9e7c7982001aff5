package entra_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/progress"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/worldinv"
)

// dyingGraph passes the first `lives` $batch calls to Graph and refuses
// every later one, as a worker that dies part-way: nothing after that
// point reaches Graph.
func dyingGraph(t *testing.T, graphURL string, lives int32) (*graphclient.Client, *atomic.Int32) {
	t.Helper()
	target, err := url.Parse(graphURL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var left, passed atomic.Int32
	left.Store(lives)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1.0/$batch" {
			if left.Add(-1) < 0 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"error":{"code":"WorkerDied","message":"the worker died"}}`))
				return
			}
			passed.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	graph, err := graphclient.New(graphclient.Config{BaseURL: srv.URL, StaticToken: "sandbox-token", RequestsPerSecond: -1})
	require.NoError(t, err)
	return graph, &passed
}

// executeInventory runs InventoryEntra as Temporal runs it, as a retry of
// an attempt whose last heartbeat was after (when set), and returns its
// last heartbeat.
func executeInventory(t *testing.T, a *entra.Activities, in entra.InventoryEntraInput, after *progress.Progress) (entra.InventoryEntraResult, progress.Progress, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	if after != nil {
		env.SetHeartbeatDetails(*after)
	}
	var last progress.Progress
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		require.NoError(t, details.Get(&last))
	})
	val, err := env.ExecuteActivity(entra.InventoryEntraName, in)
	if err != nil {
		return entra.InventoryEntraResult{}, last, err
	}
	var res entra.InventoryEntraResult
	require.NoError(t, val.Get(&res))
	return res, last, nil
}

// TestInventoryResumesWhereTheDeadAttemptLeftOff: an attempt dies while it
// reads the groups' members; the retry takes the candidates and the groups
// read from the checkpoint, reads only the others, and gives the same
// inventory as a run that never died.
func TestInventoryResumesWhereTheDeadAttemptLeftOff(t *testing.T) {
	w := largeWorld()
	sb, err := sandbox.Start(w, sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	whole, err := graphclient.New(graphclient.Config{BaseURL: sb.GraphURL, StaticToken: "sandbox-token", RequestsPerSecond: -1})
	require.NoError(t, err)

	f := fixtureFor(t, w, whole)
	entra.SetGroupsPerChunk(f.acts, 10) // 42 candidates: 5 chunks
	uninterrupted, _, err := executeInventory(t, f.acts, f.input, nil)
	require.NoError(t, err)
	fullBatches := callsOf(uninterrupted, batch)

	// The name lookup is one call; the first chunks take two calls each
	// (members and owners, then next pages and nested groups).
	dying, passed := dyingGraph(t, sb.GraphURL, 6)
	f = fixtureFor(t, w, dying)
	entra.SetGroupsPerChunk(f.acts, 10)
	_, last, err := executeInventory(t, f.acts, f.input, nil)
	require.ErrorContains(t, err, "the worker died")
	require.NotEmpty(t, last.Checkpoint, "the dead attempt left a checkpoint in its heartbeats")

	f.acts.Graph = whole
	res, _, err := executeInventory(t, f.acts, f.input, &last)
	require.NoError(t, err)
	var inv preflight.Entra
	require.NoError(t, f.store.Get(t.Context(), res.Inventory, &inv))
	require.Equal(t, worldinv.Entra(w, worldinv.AWS(w)), inv)
	require.Equal(t, uninterrupted.Inventory, res.Inventory, "the same document")

	resumed := callsOf(res, batch)
	require.Less(t, resumed, fullBatches-2, "the retry reads neither the names nor the chunks stored")
	require.LessOrEqual(t, int(passed.Load())+resumed, fullBatches+2, "at most the chunk that was being read is read twice")
}

func callsOf(res entra.InventoryEntraResult, operation string) int {
	for _, c := range res.APICalls {
		if c.Operation == operation {
			return c.Calls
		}
	}
	return 0
}
