package identitycenter

import (
	"cmp"
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/store"
)

// A retry of InventoryAWS resumes where the last attempt's checkpoint left
// off. At 100,000 users the inventory makes about 53,000 calls, 45 minutes
// at AWS's default pace: a worker that dies half-way must not make a retry
// start again from scratch.
//
// What is done is stored as it is done (sealed like every document), and
// the checkpoint, sent in the activity's heartbeats, refers to it:
//   - the permission sets and their provisioned pairs, once listed;
//   - the users and groups, once listed;
//   - the assignment listing, in batches: every batch holds the listing's
//     units (pairs or principals, by index) done since the one before, their
//     assignments, and the groups whose members were listed meanwhile, and
//     names the batch before it, so the checkpoint holds one reference
//     however far the listing came.
//
// A batch is stored every checkpointEvery units and groups, so a crash
// loses at most that much work and the calls in flight. The instance and
// the applications (a few calls) are read again.

// inventoryKindCheckpoint is the store kind of the documents a checkpoint
// refers to.
const inventoryKindCheckpoint = "aws-inventory-checkpoint"

// inventoryCheckpoint is where a retry of InventoryAWS resumes.
type inventoryCheckpoint struct {
	Provisioned *store.Ref `json:"provisioned,omitempty"`
	Directory   *store.Ref `json:"directory,omitempty"`
	// Listing is the listing the batches are of (its strategy may differ
	// from the one the counts choose: per principal falls back to per pair).
	Listing *preflight.AssignmentListing `json:"listing,omitempty"`
	// LastBatch is the last batch of the assignment listing stored.
	LastBatch *store.Ref `json:"lastBatch,omitempty"`
}

// storedProvisioned is provisioned as stored for a checkpoint.
type storedProvisioned struct {
	InstanceARN    string                    `json:"instanceArn"`
	PermissionSets []preflight.PermissionSet `json:"permissionSets"`
	Targets        []storedTarget            `json:"targets"`
}

type storedTarget struct {
	AccountID        string `json:"accountId"`
	PermissionSetARN string `json:"permissionSetArn"`
}

// storedDirectory is directory as stored for a checkpoint, in the order
// ListGroups and ListUsers gave it (the per-principal listing's units are
// its indexes).
type storedDirectory struct {
	Groups []storedGroup       `json:"groups"`
	Users  []preflight.AWSUser `json:"users"`
}

type storedGroup struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// listedBatch is one batch of the assignment listing.
type listedBatch struct {
	Previous    *store.Ref          `json:"previous,omitempty"`
	Units       []int               `json:"units"`
	Assignments []storedAssignment  `json:"assignments"`
	Members     map[string][]string `json:"members"` // member user IDs by group ID
}

type storedAssignment struct {
	AccountID        string `json:"accountId"`
	PermissionSetARN string `json:"permissionSetArn"`
	PrincipalType    string `json:"principalType"`
	PrincipalID      string `json:"principalId"`
}

func storeAssignment(as ssotypes.AccountAssignment) storedAssignment {
	return storedAssignment{
		AccountID: aws.ToString(as.AccountId), PermissionSetARN: aws.ToString(as.PermissionSetArn),
		PrincipalType: string(as.PrincipalType), PrincipalID: aws.ToString(as.PrincipalId),
	}
}

func (s storedAssignment) accountAssignment() ssotypes.AccountAssignment {
	return ssotypes.AccountAssignment{
		AccountId: aws.String(s.AccountID), PermissionSetArn: aws.String(s.PermissionSetARN),
		PrincipalType: ssotypes.PrincipalType(s.PrincipalType), PrincipalId: aws.String(s.PrincipalID),
	}
}

// checkpoints keeps the checkpoint of one run and stores what it refers to.
type checkpoints struct {
	r     *inventoryRun
	every int

	mu      sync.Mutex
	cp      inventoryCheckpoint
	pending listedBatch // done since the last batch stored
	waiting int         // units and groups in pending
}

// defaultCheckpointEvery is how many units and groups of the assignment
// listing a batch holds: 1% of the 100,000-user inventory's calls.
const defaultCheckpointEvery = 500

func newCheckpoints(r *inventoryRun, resumed inventoryCheckpoint) *checkpoints {
	return &checkpoints{r: r, every: cmp.Or(r.a.checkpointEvery, defaultCheckpointEvery), cp: resumed, pending: listedBatch{Members: map[string][]string{}}}
}

// put stores v, a document a checkpoint refers to.
func (c *checkpoints) put(ctx context.Context, v any) (store.Ref, error) {
	ref, err := c.r.a.Store.Put(ctx, inventoryKindCheckpoint, v)
	if err != nil {
		return store.Ref{}, fmt.Errorf("store the inventory's checkpoint: %w", err)
	}
	return ref, nil
}

// save stores v and records its reference with set, then sends the
// checkpoint.
func (c *checkpoints) save(ctx context.Context, v any, set func(*inventoryCheckpoint, store.Ref)) error {
	ref, err := c.put(ctx, v)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	set(&c.cp, ref)
	return c.r.progress.Checkpoint(c.cp)
}

// saveProvisioned checkpoints the permission sets and their pairs.
func (c *checkpoints) saveProvisioned(ctx context.Context, p provisioned) error {
	doc := storedProvisioned{InstanceARN: p.instanceARN, PermissionSets: p.permissionSets, Targets: make([]storedTarget, len(p.targets))}
	for i, t := range p.targets {
		doc.Targets[i] = storedTarget{AccountID: t.accountID, PermissionSetARN: t.permissionSetARN}
	}
	return c.save(ctx, doc, func(cp *inventoryCheckpoint, ref store.Ref) { cp.Provisioned = &ref })
}

// loadProvisioned reads what saveProvisioned stored.
func (c *checkpoints) loadProvisioned(ctx context.Context, ref store.Ref) (provisioned, error) {
	var doc storedProvisioned
	if err := c.r.a.Store.Get(ctx, ref, &doc); err != nil {
		return provisioned{}, fmt.Errorf("resume the inventory: %w", err)
	}
	p := provisioned{instanceARN: doc.InstanceARN, permissionSets: doc.PermissionSets, targets: make([]target, len(doc.Targets))}
	for i, t := range doc.Targets {
		p.targets[i] = target{accountID: t.AccountID, permissionSetARN: t.PermissionSetARN}
	}
	return p, nil
}

// saveDirectory checkpoints the users and groups.
func (c *checkpoints) saveDirectory(ctx context.Context, d directory) error {
	doc := storedDirectory{Groups: make([]storedGroup, len(d.groupIDs)), Users: make([]preflight.AWSUser, len(d.userIDs))}
	for i, id := range d.groupIDs {
		doc.Groups[i] = storedGroup{ID: id, DisplayName: d.groupNames[id]}
	}
	for i, id := range d.userIDs {
		doc.Users[i] = d.users[id]
	}
	return c.save(ctx, doc, func(cp *inventoryCheckpoint, ref store.Ref) { cp.Directory = &ref })
}

// loadDirectory reads what saveDirectory stored.
func (c *checkpoints) loadDirectory(ctx context.Context, ref store.Ref) (directory, error) {
	var doc storedDirectory
	if err := c.r.a.Store.Get(ctx, ref, &doc); err != nil {
		return directory{}, fmt.Errorf("resume the inventory: %w", err)
	}
	d := directory{groupNames: make(map[string]string, len(doc.Groups)), users: make(map[string]preflight.AWSUser, len(doc.Users))}
	for _, g := range doc.Groups {
		d.groupIDs = append(d.groupIDs, g.ID)
		d.groupNames[g.ID] = g.DisplayName
	}
	for _, u := range doc.Users {
		d.userIDs = append(d.userIDs, u.ID)
		d.users[u.ID] = u
	}
	return d, nil
}

// listing is the listing the last attempt began, or nil.
func (c *checkpoints) listing() *preflight.AssignmentListing {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cp.Listing
}

// forgetListing drops the listing's batches: they are of pairs that are
// listed again.
func (c *checkpoints) forgetListing() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cp.Listing, c.cp.LastBatch = nil, nil
}

// resumedListing is what the stored batches of a listing hold.
type resumedListing struct {
	units       map[int]bool
	assignments []ssotypes.AccountAssignment
	members     map[string][]string
}

// loadListing reads every stored batch of the listing, newest first.
func (c *checkpoints) loadListing(ctx context.Context) (resumedListing, error) {
	out := resumedListing{units: map[int]bool{}, members: map[string][]string{}}
	for ref := c.cp.LastBatch; ref != nil; {
		var batch listedBatch
		if err := c.r.a.Store.Get(ctx, *ref, &batch); err != nil {
			return resumedListing{}, fmt.Errorf("resume the inventory: %w", err)
		}
		for _, u := range batch.Units {
			out.units[u] = true
		}
		for _, as := range batch.Assignments {
			out.assignments = append(out.assignments, as.accountAssignment())
		}
		for id, members := range batch.Members {
			out.members[id] = members
		}
		ref = batch.Previous
	}
	return out, nil
}

// unitDone records that unit i of listing is listed, with its assignments,
// and stores a batch when enough is waiting.
func (c *checkpoints) unitDone(ctx context.Context, listing preflight.AssignmentListing, i int, assignments []ssotypes.AccountAssignment) error {
	if c == nil {
		return nil // the verification lists without checkpoints
	}
	c.mu.Lock()
	if c.cp.Listing == nil {
		c.cp.Listing = &listing
	}
	c.pending.Units = append(c.pending.Units, i)
	for _, as := range assignments {
		c.pending.Assignments = append(c.pending.Assignments, storeAssignment(as))
	}
	c.waiting++
	c.mu.Unlock()
	return c.flushIfDue(ctx)
}

// groupDone records the members of group id, and stores a batch when
// enough is waiting.
func (c *checkpoints) groupDone(ctx context.Context, id string, members []string) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	c.pending.Members[id] = members
	c.waiting++
	c.mu.Unlock()
	return c.flushIfDue(ctx)
}

// flushIfDue stores the pending batch once it holds c.every units and
// groups. Batches are stored one at a time, each naming the one before.
func (c *checkpoints) flushIfDue(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting < c.every || c.cp.Listing == nil {
		return nil
	}
	batch := c.pending
	batch.Previous = c.cp.LastBatch
	ref, err := c.put(ctx, batch)
	if err != nil {
		return err
	}
	c.cp.LastBatch = &ref
	c.pending, c.waiting = listedBatch{Members: map[string][]string{}}, 0
	return c.r.progress.Checkpoint(c.cp)
}
