package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
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
