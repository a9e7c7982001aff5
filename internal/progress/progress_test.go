package progress

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReporterRecordsEachStep(t *testing.T) {
	var seen []Progress
	r := New(context.Background(), func(p Progress) { seen = append(seen, p) })
	r.Start("groups", 2)
	r.Add(1)
	r.More(3)
	r.Add(4)
	r.Start("users", 1)
	require.Equal(t, []Progress{
		{Step: "groups", Total: 2},
		{Step: "groups", Done: 1, Total: 2},
		{Step: "groups", Done: 1, Total: 5},
		{Step: "groups", Done: 5, Total: 5},
		{Step: "users", Total: 1},
	}, seen)
}

func TestForEachBoundsConcurrencyAndStopsAtTheFirstError(t *testing.T) {
	var running, most atomic.Int32
	err := ForEach(context.Background(), 3, 50, func(ctx context.Context, i int) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.LessOrEqual(t, most.Load(), int32(3))

	boom := errors.New("boom")
	var calls atomic.Int32
	err = ForEach(context.Background(), 1, 50, func(ctx context.Context, i int) error {
		calls.Add(1)
		if i == 2 {
			return boom
		}
		return nil
	})
	require.ErrorIs(t, err, boom)
	require.Less(t, calls.Load(), int32(50), "no call starts after the error")
}

func TestForEachReportsCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := ForEach(ctx, 2, 10, func(context.Context, int) error { return nil })
	require.ErrorIs(t, err, context.Canceled, "a cancelled run must not pass for a complete one")
}

func TestReporterShowsStepsRunningAlongsideEachOther(t *testing.T) {
	var seen []Progress
	r := New(context.Background(), func(p Progress) { seen = append(seen, p) })
	accounts := r.Begin("accounts", 2)
	users := r.Begin("users", 0)
	users.More(100)
	accounts.Add(2)
	accounts.End()
	users.Add(100)
	users.End()
	require.Equal(t, []Progress{
		{Step: "accounts", Total: 2},
		{Step: "accounts", Total: 2, Alongside: []Progress{{Step: "users"}}},
		{Step: "accounts", Total: 2, Alongside: []Progress{{Step: "users", Total: 100}}},
		{Step: "accounts", Done: 2, Total: 2, Alongside: []Progress{{Step: "users", Total: 100}}},
		{Step: "users", Total: 100},
		{Step: "users", Done: 100, Total: 100},
		{},
	}, seen)
	require.Equal(t, []Progress{{Step: "accounts", Done: 2, Total: 2}, {Step: "users", Total: 100}}, seen[3].Steps())
}
