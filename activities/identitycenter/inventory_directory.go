package identitycenter

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"golang.org/x/sync/errgroup"

	"github.com/platformguide/ssocutover/internal/preflight"
)

// directory is every group and user of the identity store, in the order
// ListGroups and ListUsers gave them.
type directory struct {
	groupIDs   []string
	groupNames map[string]string // by group ID
	userIDs    []string
	users      map[string]preflight.AWSUser // by user ID
}

// directory reads every group and every user of the identity store, both
// at once. Whichever way the assignments are then listed, these calls are
// needed: for the names of the principals, and for the per-principal
// listing the principals themselves.
func (r *inventoryRun) directory(ctx context.Context) (directory, error) {
	d := directory{groupNames: map[string]string{}, users: map[string]preflight.AWSUser{}}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		part := r.progress.Begin("groups", 0)
		defer part.End()
		return r.eachGroupPage(gctx, func(page []idtypes.Group) {
			part.More(len(page))
			for _, group := range page {
				id := aws.ToString(group.GroupId)
				d.groupIDs = append(d.groupIDs, id)
				d.groupNames[id] = aws.ToString(group.DisplayName)
			}
			part.Add(len(page))
		})
	})
	g.Go(func() error {
		part := r.progress.Begin("users", 0)
		defer part.End()
		return r.eachUserPage(gctx, func(page []idtypes.User) {
			part.More(len(page))
			for _, u := range page {
				id := aws.ToString(u.UserId)
				d.userIDs = append(d.userIDs, id)
				d.users[id] = preflight.AWSUser{ID: id, UserName: aws.ToString(u.UserName), DisplayName: aws.ToString(u.DisplayName), Email: primaryEmail(u.Emails)}
			}
			part.Add(len(page))
		})
	})
	if err := g.Wait(); err != nil {
		return directory{}, err
	}
	return d, nil
}

// eachGroupPage reads every group of the identity store, 100 per call, and
// hands each page to visit. visit is called from one goroutine at a time.
func (r *inventoryRun) eachGroupPage(ctx context.Context, visit func([]idtypes.Group)) error {
	pages := identitystore.NewListGroupsPaginator(r.a.IdentityStore, &identitystore.ListGroupsInput{IdentityStoreId: aws.String(r.in.IdentityStoreID), MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return r.callError(err, "list the groups of identity store "+r.in.IdentityStoreID, true)
		}
		visit(out.Groups)
	}
	return nil
}

// eachUserPage reads every user of the identity store, 100 per call, and
// hands each page to visit.
func (r *inventoryRun) eachUserPage(ctx context.Context, visit func([]idtypes.User)) error {
	pages := identitystore.NewListUsersPaginator(r.a.IdentityStore, &identitystore.ListUsersInput{IdentityStoreId: aws.String(r.in.IdentityStoreID), MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return r.callError(err, "list the users of identity store "+r.in.IdentityStoreID, true)
		}
		visit(out.Users)
	}
	return nil
}

// primaryEmail is the primary address, or the first if none is marked.
func primaryEmail(emails []idtypes.Email) string {
	for _, e := range emails {
		if e.Primary {
			return aws.ToString(e.Value)
		}
	}
	if len(emails) > 0 {
		return aws.ToString(emails[0].Value)
	}
	return ""
}
