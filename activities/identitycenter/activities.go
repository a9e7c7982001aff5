// Package identitycenter holds the activities that read (and, later, change)
// AWS IAM Identity Center: the instance, its permission sets and account
// assignments through sso-admin, its users and groups through identitystore.
package identitycenter

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"

	"github.com/platformguide/ssocutover/internal/store"
)

// IdentityStoreAPI is the part of the identitystore client the activities
// use; *identitystore.Client satisfies it.
type IdentityStoreAPI interface {
	ListUsers(ctx context.Context, params *identitystore.ListUsersInput, optFns ...func(*identitystore.Options)) (*identitystore.ListUsersOutput, error)
	ListGroups(ctx context.Context, params *identitystore.ListGroupsInput, optFns ...func(*identitystore.Options)) (*identitystore.ListGroupsOutput, error)
	ListGroupMemberships(ctx context.Context, params *identitystore.ListGroupMembershipsInput, optFns ...func(*identitystore.Options)) (*identitystore.ListGroupMembershipsOutput, error)
}

// SSOAdminAPI is the part of the sso-admin client the activities use;
// *ssoadmin.Client satisfies it.
type SSOAdminAPI interface {
	ListInstances(ctx context.Context, params *ssoadmin.ListInstancesInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListInstancesOutput, error)
	ListPermissionSets(ctx context.Context, params *ssoadmin.ListPermissionSetsInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListPermissionSetsOutput, error)
	DescribePermissionSet(ctx context.Context, params *ssoadmin.DescribePermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.DescribePermissionSetOutput, error)
	ListAccountsForProvisionedPermissionSet(ctx context.Context, params *ssoadmin.ListAccountsForProvisionedPermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountsForProvisionedPermissionSetOutput, error)
	ListAccountAssignments(ctx context.Context, params *ssoadmin.ListAccountAssignmentsInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentsOutput, error)
}

var (
	_ IdentityStoreAPI = (*identitystore.Client)(nil)
	_ SSOAdminAPI      = (*ssoadmin.Client)(nil)
)

// DefaultConcurrency is how many calls an activity makes at once when
// Activities.Concurrency is zero. The pace is set by the HTTP client's rate
// limiter (internal/awsclient); concurrency only hides the latency.
const DefaultConcurrency = 8

// Activities are the Identity Center activities. The worker registers one
// value; its methods are the activities, named by the constants in types.go.
type Activities struct {
	IdentityStore IdentityStoreAPI
	SSOAdmin      SSOAdminAPI
	// Store keeps the inventories out of workflow history.
	Store store.Store
	// Concurrency bounds the calls in flight per activity; 0 means
	// DefaultConcurrency.
	Concurrency int

	// onProgress, when set, sees every progress report, which heartbeats
	// only sample (the SDK sends at most one per throttle interval).
	onProgress func(Progress)
}

func (a *Activities) concurrency() int {
	if a.Concurrency > 0 {
		return a.Concurrency
	}
	return DefaultConcurrency
}

// region is the region the sso-admin client calls, for error messages that
// tell the user where the instance was looked for.
func (a *Activities) region() string {
	if c, ok := a.SSOAdmin.(interface{ Options() ssoadmin.Options }); ok {
		return c.Options().Region
	}
	return ""
}

// progress reports how far a step has come as the activity's heartbeat.
// It is safe for concurrent use and does nothing outside an activity (a
// test or a command-line run of the same code).
type progress struct {
	ctx    context.Context
	report func(Progress) // optional, see Activities.onProgress
	mu     sync.Mutex
	step   string
	done   atomic.Int64
	all    int
}

func newProgress(ctx context.Context, report func(Progress)) *progress {
	return &progress{ctx: ctx, report: report}
}

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

func (p *progress) beat() {
	p.mu.Lock()
	details := Progress{Step: p.step, Done: int(p.done.Load()), Total: p.all}
	if p.report != nil {
		p.report(details)
	}
	p.mu.Unlock()
	if activity.IsActivity(p.ctx) {
		// The SDK batches heartbeats (at most one call to the server per
		// throttle interval), so beating once per call is cheap.
		activity.RecordHeartbeat(p.ctx, details)
	}
}

// forEach calls fn for every index in [0, n), at most limit at a time, and
// returns the first error. After an error it starts no more calls and the
// context passed to the running ones is cancelled.
func forEach(ctx context.Context, limit, n int, fn func(ctx context.Context, i int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(ctx, i) })
	}
	return g.Wait()
}
