package entra

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/store"
)

// A retry of InventoryEntra resumes where the last attempt's checkpoint
// left off, as InventoryAWS does (identitycenter/inventory_checkpoint.go).
// Reading the candidate groups' members is most of its calls, so that is
// done in chunks of groupsPerChunk groups: after each chunk, the groups it
// read and the users first seen in it are stored (sealed, as every
// document), and the checkpoint in the heartbeats names the last chunk,
// which names the one before. The candidates found by name are stored
// too. Looking up the other users (a few calls) is done again.
//
// A chunk ends its own $batch rounds, whose last calls may carry fewer than
// 20 requests: 1,000 groups to a chunk keeps that under 1% of the calls.

// inventoryKindCheckpoint is the store kind of the documents a checkpoint
// refers to.
const inventoryKindCheckpoint = "entra-inventory-checkpoint"

// defaultGroupsPerChunk is how many candidate groups one chunk reads.
const defaultGroupsPerChunk = 1000

// inventoryCheckpoint is where a retry of InventoryEntra resumes.
type inventoryCheckpoint struct {
	Candidates *store.Ref `json:"candidates,omitempty"`
	LastChunk  *store.Ref `json:"lastChunk,omitempty"`
}

// storedCandidates are the candidate groups as findGroups found them.
type storedCandidates struct {
	Groups []preflight.EntraGroup `json:"groups"`
}

// readChunk is one chunk of groups read.
type readChunk struct {
	Previous *store.Ref            `json:"previous,omitempty"`
	Groups   []readGroup           `json:"groups"`
	Users    []preflight.EntraUser `json:"users"` // first seen in this chunk
}

// readGroup is a candidate once its members and owners are read.
type readGroup struct {
	Group        preflight.EntraGroup `json:"group"`
	NestedGroups []string             `json:"nestedGroups,omitempty"`
	Reached      map[string]string    `json:"reached,omitempty"`
}

// checkpoint stores v and sends the checkpoint with set's change.
func (r *inventoryRun) checkpoint(ctx context.Context, v any, set func(store.Ref)) error {
	if r.store == nil {
		return nil
	}
	ref, err := r.store.Put(ctx, inventoryKindCheckpoint, v)
	if err != nil {
		return fmt.Errorf("store the inventory's checkpoint: %w", err)
	}
	set(ref)
	return r.progress.Checkpoint(r.resume)
}

// saveCandidates checkpoints the candidate groups findGroups found.
func (r *inventoryRun) saveCandidates(ctx context.Context) error {
	doc := storedCandidates{Groups: []preflight.EntraGroup{}}
	for _, id := range slices.Sorted(maps.Keys(r.candidates)) {
		doc.Groups = append(doc.Groups, r.candidates[id].group)
	}
	return r.checkpoint(ctx, doc, func(ref store.Ref) { r.resume.Candidates = &ref })
}

// loadCandidates reads what saveCandidates stored.
func (r *inventoryRun) loadCandidates(ctx context.Context) error {
	var doc storedCandidates
	if err := r.store.Get(ctx, *r.resume.Candidates, &doc); err != nil {
		return fmt.Errorf("resume the inventory: %w", err)
	}
	for _, g := range doc.Groups {
		r.candidates[g.ID] = newCandidate(g)
	}
	return nil
}

// saveChunk checkpoints the groups ids, just read, and the users first seen
// while reading them.
func (r *inventoryRun) saveChunk(ctx context.Context, ids []string, users []string) error {
	chunk := readChunk{Previous: r.resume.LastChunk, Groups: make([]readGroup, 0, len(ids)), Users: make([]preflight.EntraUser, 0, len(users))}
	for _, id := range ids {
		c := r.candidates[id]
		chunk.Groups = append(chunk.Groups, readGroup{Group: c.group, NestedGroups: slices.Sorted(maps.Keys(c.nestedGroups)), Reached: c.reached})
	}
	for _, id := range users {
		chunk.Users = append(chunk.Users, r.users[id])
	}
	return r.checkpoint(ctx, chunk, func(ref store.Ref) { r.resume.LastChunk = &ref })
}

// loadChunks reads every chunk stored, restores its groups and users, and
// returns the IDs of the groups read.
func (r *inventoryRun) loadChunks(ctx context.Context) (map[string]bool, error) {
	read := map[string]bool{}
	for ref := r.resume.LastChunk; ref != nil; {
		var chunk readChunk
		if err := r.store.Get(ctx, *ref, &chunk); err != nil {
			return nil, fmt.Errorf("resume the inventory: %w", err)
		}
		for _, u := range chunk.Users {
			r.users[u.ID] = u
		}
		for _, g := range chunk.Groups {
			c := newCandidate(g.Group)
			for _, name := range g.NestedGroups {
				c.nestedGroups[name] = true
			}
			maps.Copy(c.reached, g.Reached)
			c.askedNested = len(g.NestedGroups) > 0
			r.candidates[g.Group.ID] = c
			read[g.Group.ID] = true
		}
		ref = chunk.Previous
	}
	// Members share one copy of each user's ID, as when they were read.
	for _, c := range r.candidates {
		for i, id := range c.group.MemberIDs {
			if u, ok := r.users[id]; ok {
				c.group.MemberIDs[i] = u.ID
			}
		}
	}
	return read, nil
}
