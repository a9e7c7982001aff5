package entra

import (
	"context"
	"fmt"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// collectionPage is a page of a Graph collection (groups, users).
type collectionPage interface {
	serialization.Parsable
	GetOdataNextLink() *string
}

// collection is what finding objects by name needs to know of one Graph
// collection. The SDK's builders and page types differ for groups and
// users; the way to find them does not.
type collection[P collectionPage] struct {
	// name ("groups") and property ("displayName") are also used in messages.
	name, property string
	// known is how many objects of the collection are already known to
	// exist: a listing takes at least their pages.
	known int
	count func(ctx context.Context) (*int32, error)
	// request is a request for the first page, of the objects that match
	// filter, or of all of them when filter is nil; next for a nextLink.
	request func(ctx context.Context, filter *string) (*abstractions.RequestInformation, error)
	next    func(ctx context.Context, nextLink string) (*abstractions.RequestInformation, error)
	factory serialization.ParsableFactory
	// keep takes each page; it picks out the objects wanted.
	keep func(page P)
}

// findByName gives c.keep every page of the objects whose c.property equals
// one of names (Graph compares case-insensitively): looked up 15 names to a
// $filter and 20 filters to a $batch call, or, when the collection is so
// small that listing all of it takes fewer calls, listed whole.
func findByName[P collectionPage](ctx context.Context, r *inventoryRun, c collection[P], names []string) error {
	filters := packFilters(c.property, names)
	list, err := r.listIsCheaper(ctx, len(filters), c.known, c.name, c.count)
	if err != nil {
		return err
	}
	if list {
		return listAll(ctx, r, c)
	}

	b := r.newBatcher(nil)
	lookups := pages[P]{factory: c.factory, next: c.next, page: func(page P) error { c.keep(page); return nil }}
	for _, filter := range filters {
		what := fmt.Sprintf("look up %s by %s (%s)", c.name, c.property, filter)
		info, err := c.request(ctx, &filter)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		lookups.what = what
		b.add(lookups.request(ctx, b, info))
	}
	return b.run(ctx)
}

// pages reads a collection page by page in a batcher: each page's request
// queues the request for the next page, if any, in the same batcher.
type pages[P collectionPage] struct {
	what    string
	factory serialization.ParsableFactory
	next    func(ctx context.Context, nextLink string) (*abstractions.RequestInformation, error)
	// page takes each page.
	page func(P) error
	// more, when set, is told of each further page (for progress).
	more func()
}

// request is the batch request for the page info asks for.
func (p pages[P]) request(ctx context.Context, b *batcher, info *abstractions.RequestInformation) *batchRequest {
	return &batchRequest{
		what:    p.what,
		info:    info,
		factory: p.factory,
		handle: func(result serialization.Parsable) error {
			page := result.(P)
			if err := p.page(page); err != nil {
				return err
			}
			if link := page.GetOdataNextLink(); link != nil {
				info, err := p.next(ctx, *link)
				if err != nil {
					return fmt.Errorf("%s: %w", p.what, err)
				}
				if p.more != nil {
					p.more()
				}
				b.add(p.request(ctx, b, info))
			}
			return nil
		},
	}
}

// listAll gives c.keep every page of the whole collection, one call a page.
func listAll[P collectionPage](ctx context.Context, r *inventoryRun, c collection[P]) error {
	what := "list the " + c.name + " of the tenant"
	info, err := c.request(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for {
		result, err := r.graph.Adapter.Send(ctx, info, c.factory, abstractions.ErrorMappings{
			"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue,
		})
		if err != nil {
			return callError(what, err)
		}
		page := result.(P)
		c.keep(page)
		next := page.GetOdataNextLink()
		if next == nil {
			return nil
		}
		if info, err = c.next(ctx, *next); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
}
