package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

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

// streamedDoc has what encoding/json and its streaming replacement could
// write differently: nil and empty slices and maps, omitempty, HTML
// characters, non-ASCII text, times, embedded and unexported fields.
type streamedDoc struct {
	Name     string            `json:"name"`
	Nil      []string          `json:"nil"`
	Empty    []string          `json:"empty"`
	NilMap   map[string]int    `json:"nilMap"`
	Map      map[string]int    `json:"map"`
	Skipped  bool              `json:"skipped,omitempty"`
	Zero     int               `json:"zero,omitempty"`
	At       time.Time         `json:"at"`
	Pointer  *string           `json:"pointer"`
	Any      any               `json:"any"`
	Items    []streamedItem    `json:"items"`
	ByID     map[string]string `json:"byId,omitempty"`
	internal string
}

type streamedItem struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// TestDocumentsKeepTheirDigests: the store writes the bytes encoding/json
// writes, so a document keeps its digest, and reads a document that
// encoding/json wrote.
func TestDocumentsKeepTheirDigests(t *testing.T) {
	doc := streamedDoc{
		Name: "<aws-admins> & \"ops\" — Zoë", Empty: []string{}, Map: map[string]int{"b": 2, "a": 1},
		At: time.Date(2026, 12, 7, 10, 0, 0, 123, time.UTC), Any: map[string]any{"x": []any{1.5, "y", nil}},
		Items: []streamedItem{{"u-1", 0.1}, {"u-2", 1e21}}, internal: "not written",
	}
	for range 2000 {
		doc.Items = append(doc.Items, streamedItem{ID: fmt.Sprintf("user-%06d@corp.example", len(doc.Items)), Score: float64(len(doc.Items)) / 3})
	}
	want, err := json.Marshal(doc)
	require.NoError(t, err)
	sum := sha256.Sum256(want)

	d := Dir{Path: t.TempDir()}
	ref, err := d.Put(context.Background(), "report", doc)
	require.NoError(t, err)
	require.Equal(t, hex.EncodeToString(sum[:]), ref.Digest)
	require.Equal(t, int64(len(want)), ref.Size)

	var got streamedDoc
	require.NoError(t, d.Get(context.Background(), ref, &got))
	doc.internal = ""
	require.Equal(t, doc, got)

	// As the store wrote documents before: gzipped encoding/json.
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, err = zw.Write(want)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	old := Dir{Path: t.TempDir()}
	require.NoError(t, dirObjects(old.Path).WriteObject(context.Background(), ref.Key+objectSuffix, zipped.Bytes()))
	got = streamedDoc{}
	require.NoError(t, old.Get(context.Background(), ref, &got))
	require.Equal(t, doc, got)
}

// TestGetKeepsOneStringPerDistinctValue: a name that repeats through a
// document is held once, escaped or not; nulls and other kinds still decode.
func TestGetKeepsOneStringPerDistinctValue(t *testing.T) {
	type member struct {
		Name  string  `json:"name"`
		Email *string `json:"email"`
	}
	type doc struct {
		Groups  map[string][]string `json:"groups"`
		Members []member            `json:"members"`
		Count   int                 `json:"count"`
	}
	d := Dir{Path: t.TempDir()}
	in := doc{Groups: map[string][]string{}, Members: []member{{Name: "<bob>"}}, Count: 2}
	// More names than the decoder's own small cache of recent strings holds.
	for i := range 2000 {
		name := fmt.Sprintf("zoë-%04d@corp.example", i)
		in.Groups["admins"] = append(in.Groups["admins"], name)
		in.Groups["devs"] = append(in.Groups["devs"], name)
		in.Members = append(in.Members, member{Name: name})
	}
	ref, err := d.Put(context.Background(), "report", in)
	require.NoError(t, err)
	var got doc
	require.NoError(t, d.Get(context.Background(), ref, &got))
	require.Equal(t, in, got)
	for i, name := range got.Groups["admins"] {
		require.Same(t, unsafe.StringData(name), unsafe.StringData(got.Groups["devs"][i]))
		require.Same(t, unsafe.StringData(name), unsafe.StringData(got.Members[i+1].Name))
	}
	require.Nil(t, got.Members[0].Email)
}
