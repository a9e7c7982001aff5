// Package entra holds the activities that read (and, later, change)
// Microsoft Entra ID through Microsoft Graph: the groups and users of the
// tenant that the cutover maps the Identity Center groups and users to.
package entra

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/inventory"
	"github.com/platformguide/ssocutover/internal/store"
)

// DefaultConcurrency is how many $batch calls an activity has in flight at
// once when Activities.Concurrency is zero. The pace is set by the HTTP
// client's rate limiter (internal/graphclient); concurrency only hides the
// latency.
const DefaultConcurrency = 4

// Activities are the Entra activities. The worker registers one value; its
// methods are the activities, named by the constants in types.go.
type Activities struct {
	Graph *graphclient.Client
	// Store keeps the inventories out of workflow history.
	Store store.Store
	// Concurrency bounds the $batch calls in flight per activity; 0 means
	// DefaultConcurrency.
	Concurrency int
}

func (a *Activities) concurrency() int {
	if a.Concurrency > 0 {
		return a.Concurrency
	}
	return DefaultConcurrency
}

// InventoryEntra looks up in Entra the groups and users of the AWS snapshot
// in.AWSInventory: every Entra group whose display name equals an AWS
// group's (ignoring case), with its owners, direct members and the users it
// reaches only through nested groups; the direct user members of those
// groups; and every AWS user's Entra namesake by userPrincipalName. It
// stores the inventory.Entra and returns its reference.
//
// It makes the fewest Graph calls it can: requests go 20 to a $batch, name
// lookups 15 to a $filter, and a lookup by name is replaced by one listing
// of the whole tenant when that takes fewer calls.
func (a *Activities) InventoryEntra(ctx context.Context, in InventoryEntraInput) (InventoryEntraResult, error) {
	if a.Graph == nil || a.Store == nil {
		return InventoryEntraResult{}, temporal.NewNonRetryableApplicationError("the Entra activities have no Graph client or store: the worker is misconfigured", ErrInvalidRequest, nil)
	}
	if in.AWSInventory.Key == "" {
		return InventoryEntraResult{}, temporal.NewNonRetryableApplicationError("InventoryEntra needs the reference of the AWS inventory (awsInventory)", ErrInvalidRequest, nil)
	}
	calls := apicalls.NewCounter()
	ctx = apicalls.WithCounter(ctx, calls)

	var aws inventory.AWS
	if err := a.Store.Get(ctx, in.AWSInventory, &aws); err != nil {
		return InventoryEntraResult{}, fmt.Errorf("read the AWS inventory: %w", err)
	}
	run := &inventoryRun{
		graph:       a.Graph,
		concurrency: a.concurrency(),
		progress:    newProgress(ctx),
		aws:         aws,
	}
	inv, err := run.inventory(ctx, in.TenantID)
	if err != nil {
		return InventoryEntraResult{}, err
	}
	ref, err := a.Store.Put(ctx, "entra-inventory", inv)
	if err != nil {
		return InventoryEntraResult{}, fmt.Errorf("store the Entra inventory: %w", err)
	}
	candidates := 0
	for _, m := range inv.Groups {
		candidates += len(m.Candidates)
	}
	return InventoryEntraResult{
		Inventory:  ref,
		Groups:     len(inv.Groups),
		Candidates: candidates,
		Users:      len(inv.Users),
		APICalls:   calls.Counts(),
	}, nil
}

// progress reports how far a step has come as the activity's heartbeat.
// It is safe for concurrent use and does nothing outside an activity (a
// test or a command-line run of the same code).
type progress struct {
	ctx  context.Context
	mu   sync.Mutex
	step string
	done atomic.Int64
	all  int
}

func newProgress(ctx context.Context) *progress { return &progress{ctx: ctx} }

// start begins a step of total units of work.
func (p *progress) start(step string, total int) {
	p.mu.Lock()
	p.step, p.all = step, total
	p.done.Store(0)
	p.mu.Unlock()
	p.beat()
}

// add counts n units of the current step as done.
func (p *progress) add(n int) {
	p.done.Add(int64(n))
	p.beat()
}

// more adds n units to the current step: work found while doing it (the
// next page of a big group).
func (p *progress) more(n int) {
	p.mu.Lock()
	p.all += n
	p.mu.Unlock()
}

func (p *progress) beat() {
	if !activity.IsActivity(p.ctx) {
		return
	}
	p.mu.Lock()
	details := Progress{Step: p.step, Done: int(p.done.Load()), Total: p.all}
	p.mu.Unlock()
	// The SDK batches heartbeats (at most one call to the server per
	// fraction of the heartbeat timeout), so beating per batch is cheap.
	activity.RecordHeartbeat(p.ctx, details)
}

// forEach calls fn for every index in [0, n), at most limit at a time, and
// returns the first error. After an error it starts no more calls and the
// context passed to the running ones is cancelled.
func forEach(ctx context.Context, limit, n int, fn func(ctx context.Context, i int) error) error {
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
