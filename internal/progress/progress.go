// Package progress lets a long activity say how far it has come (as its
// heartbeat, which `starter status` and the Temporal UI show) and fan its
// API calls out under a limit.
package progress

import (
	"context"
	"sync"

	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"
)

// Progress is the heartbeat detail of a running activity: the step it is in
// and how far that step has come.
type Progress struct {
	Step  string `json:"step"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// Reporter records progress and sends it as the activity's heartbeat. It is
// safe for concurrent use and only records outside an activity (a test or a
// command-line run of the same code).
type Reporter struct {
	ctx context.Context
	// observe, when set, sees every report: the SDK passes on only sampled
	// heartbeats, so tests that check each step watch here.
	observe func(Progress)

	mu      sync.Mutex
	current Progress
}

// New returns a reporter for the activity running with ctx. observe may be nil.
func New(ctx context.Context, observe func(Progress)) *Reporter {
	return &Reporter{ctx: ctx, observe: observe}
}

// Start begins a step of total units of work.
func (r *Reporter) Start(step string, total int) {
	r.update(func(p *Progress) { *p = Progress{Step: step, Total: total} })
}

// Add counts n units of the current step as done.
func (r *Reporter) Add(n int) {
	r.update(func(p *Progress) { p.Done += n })
}

// More adds n units to the current step: work found while doing it (the
// next page of a big group).
func (r *Reporter) More(n int) {
	r.update(func(p *Progress) { p.Total += n })
}

func (r *Reporter) update(change func(*Progress)) {
	r.mu.Lock()
	change(&r.current)
	details := r.current
	if r.observe != nil {
		r.observe(details)
	}
	r.mu.Unlock()
	if activity.IsActivity(r.ctx) {
		// The SDK batches heartbeats (at most one call to the server per
		// fraction of the heartbeat timeout), so reporting often is cheap.
		activity.RecordHeartbeat(r.ctx, details)
	}
}

// ForEach calls fn for every index in [0, n), at most limit at a time, and
// returns the first error. After an error it starts no more calls and the
// context passed to the running ones is cancelled.
func ForEach(ctx context.Context, limit, n int, fn func(ctx context.Context, i int) error) error {
	g, groupCtx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i := range n {
		if groupCtx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(groupCtx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// A cancelled activity may have skipped work: say so rather than
	// return a partial result.
	return ctx.Err()
}
