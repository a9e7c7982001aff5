// Package progress lets a long activity say how far it has come (as its
// heartbeat, which `starter status` and the Temporal UI show) and fan its
// API calls out under a limit.
package progress

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"
)

// Progress is the heartbeat detail of a running activity: the step it is in
// and how far that step has come, and the steps running alongside it (the
// AWS inventory reads sso-admin and identitystore at once).
type Progress struct {
	Step      string     `json:"step"`
	Done      int        `json:"done"`
	Total     int        `json:"total"`
	Alongside []Progress `json:"alongside,omitempty"`
	// Checkpoint is where a retry of the activity resumes, in the
	// activity's own shape (see Reporter.Checkpoint and Resume). It holds
	// references to stored documents, never the data itself: heartbeat
	// details are kept by the server and travel with every heartbeat.
	Checkpoint json.RawMessage `json:"checkpoint,omitempty"`
}

// Steps are p and the steps alongside it, in order.
func (p Progress) Steps() []Progress {
	first := p
	first.Alongside = nil
	return append([]Progress{first}, p.Alongside...)
}

// Reporter records progress and sends it as the activity's heartbeat. It is
// safe for concurrent use and only records outside an activity (a test or a
// command-line run of the same code).
type Reporter struct {
	ctx context.Context
	// observe, when set, sees every report: the SDK passes on only sampled
	// heartbeats, so tests that check each step watch here.
	observe func(Progress)

	mu         sync.Mutex
	steps      []Progress      // running now; Start's step or the first Begun is first
	checkpoint json.RawMessage // the last Checkpoint, sent with every report
}

// New returns a reporter for the activity running with ctx. observe may be nil.
func New(ctx context.Context, observe func(Progress)) *Reporter {
	return &Reporter{ctx: ctx, observe: observe}
}

// Start begins a step of total units of work, in place of every step
// running so far.
func (r *Reporter) Start(step string, total int) {
	r.update(func() { r.steps = []Progress{{Step: step, Total: total}} })
}

// Add counts n units of the step Start began as done.
func (r *Reporter) Add(n int) {
	r.update(func() {
		if len(r.steps) > 0 {
			r.steps[0].Done += n
		}
	})
}

// More adds n units to the step Start began: work found while doing it
// (the next page of a big group).
func (r *Reporter) More(n int) {
	r.update(func() {
		if len(r.steps) > 0 {
			r.steps[0].Total += n
		}
	})
}

// Checkpoint records v as where a retry of the activity resumes, and sends
// it with this and every later report. Whatever v refers to must be stored
// before: a crash right after this call leaves a retry with v.
func (r *Reporter) Checkpoint(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode the checkpoint: %w", err)
	}
	r.update(func() { r.checkpoint = raw })
	return nil
}

// Resume reads into v the checkpoint the last attempt of the activity
// running with ctx sent in its heartbeats, and reports whether there was
// one. The first attempt, and an attempt after one that checkpointed
// nothing, start from scratch.
func Resume(ctx context.Context, v any) bool {
	if !activity.IsActivity(ctx) || !activity.HasHeartbeatDetails(ctx) {
		return false
	}
	// Details of another shape (an older worker's) are no checkpoint.
	var last Progress
	if err := activity.GetHeartbeatDetails(ctx, &last); err != nil || len(last.Checkpoint) == 0 {
		return false
	}
	return json.Unmarshal(last.Checkpoint, v) == nil
}

// Begin starts a step of total units that runs alongside the others until
// its End.
func (r *Reporter) Begin(step string, total int) *Part {
	r.update(func() { r.steps = append(r.steps, Progress{Step: step, Total: total}) })
	return &Part{r: r, step: step}
}

// Part is a step begun with Reporter.Begin. Its name is unique among the
// steps running at once.
type Part struct {
	r    *Reporter
	step string
}

// Add counts n units of the step as done.
func (p *Part) Add(n int) { p.change(func(s *Progress) { s.Done += n }) }

// More adds n units to the step.
func (p *Part) More(n int) { p.change(func(s *Progress) { s.Total += n }) }

// End takes the step out of the report.
func (p *Part) End() {
	p.r.update(func() {
		p.r.steps = slices.DeleteFunc(p.r.steps, func(s Progress) bool { return s.Step == p.step })
	})
}

func (p *Part) change(f func(*Progress)) {
	p.r.update(func() {
		if i := slices.IndexFunc(p.r.steps, func(s Progress) bool { return s.Step == p.step }); i >= 0 {
			f(&p.r.steps[i])
		}
	})
}

func (r *Reporter) update(change func()) {
	r.mu.Lock()
	change()
	var details Progress
	if len(r.steps) > 0 {
		details = r.steps[0]
		if len(r.steps) > 1 {
			details.Alongside = slices.Clone(r.steps[1:])
		}
	}
	details.Checkpoint = r.checkpoint
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
