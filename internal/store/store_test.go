package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/internal/codec"
)

func TestPutGetRoundTripAndIdempotence(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	doc := map[string]int{"a": 1}
	ref, err := d.Put(context.Background(), "report", doc)
	require.NoError(t, err)
	again, err := d.Put(context.Background(), "report", doc)
	require.NoError(t, err)
	require.Equal(t, ref, again)
	files, _ := filepath.Glob(filepath.Join(d.Path, "*"))
	require.Len(t, files, 1)

	var got map[string]int
	require.NoError(t, d.Get(context.Background(), ref, &got))
	require.Equal(t, doc, got)
}

func TestGetRefusesChangedDocument(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	ref, err := d.Put(context.Background(), "report", []int{1})
	require.NoError(t, err)
	other, err := d.Put(context.Background(), "report", []int{2})
	require.NoError(t, err)
	require.NoError(t, os.Rename(d.path(other), d.path(ref)))
	var got []int
	require.ErrorContains(t, d.Get(context.Background(), ref, &got), "changed after it was written")
}

func TestRejectsPathTraversal(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	_, err := d.Put(context.Background(), "../x", 1)
	require.Error(t, err)
	require.Error(t, d.Get(context.Background(), Ref{Key: "../../etc/passwd"}, new(any)))
}

func TestSealedDocumentsHoldNoPlaintext(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sealed := Dir{Path: dir, Sealer: activitytest.NewCodec(t)}
	doc := map[string]string{"userName": "alice@corp.example"}
	ref, err := sealed.Put(ctx, "aws-inventory", doc)
	require.NoError(t, err)

	file, err := os.ReadFile(sealed.path(ref))
	require.NoError(t, err)
	require.True(t, codec.IsSealed(file))
	require.NotContains(t, string(file), "alice")
	require.NotContains(t, string(file), ref.Digest, "the digest names the object, not its content")

	var got map[string]string
	require.NoError(t, sealed.Get(ctx, ref, &got))
	require.Equal(t, doc, got)
	require.ErrorContains(t, Dir{Path: dir}.Get(ctx, ref, &got), "is encrypted, and this program has no payload keys")
	require.ErrorIs(t, Dir{Path: dir, Sealer: activitytest.NewCodec(t)}.Get(ctx, ref, &got), codec.ErrDecrypt, "another key does not open it")

	// A document written before sealing was turned on still reads.
	plainRef, err := Dir{Path: dir}.Put(ctx, "report", []int{1})
	require.NoError(t, err)
	var ints []int
	require.NoError(t, sealed.Get(ctx, plainRef, &ints))
	require.Equal(t, []int{1}, ints)
}
