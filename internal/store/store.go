// Package store keeps large documents (inventories, reports) out of workflow
// history. An activity puts a document and hands the workflow a Ref: a key
// and the SHA-256 digest of the content, so whoever reads it back can tell it
// is the document the workflow saw.
package store

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// Ref points at a stored document.
type Ref struct {
	Key    string `json:"key"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// Store puts and gets JSON documents by reference.
type Store interface {
	Put(ctx context.Context, kind string, v any) (Ref, error)
	Get(ctx context.Context, ref Ref, v any) error
}

// Dir is a Store in a local directory. Documents are content-addressed, so
// putting the same document twice (an activity retried) writes one file.
// Every worker must see the same directory.
type Dir struct {
	Path string
}

var kindPattern = regexp.MustCompile(`^[a-z0-9-]+$`)

// Put stores v as gzipped JSON under kind and its digest.
func (d Dir) Put(_ context.Context, kind string, v any) (Ref, error) {
	if !kindPattern.MatchString(kind) {
		return Ref{}, fmt.Errorf("store: invalid kind %q", kind)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return Ref{}, fmt.Errorf("store: encode %s: %w", kind, err)
	}
	sum := sha256.Sum256(data)
	ref := Ref{Key: kind + "-" + hex.EncodeToString(sum[:]), Digest: hex.EncodeToString(sum[:]), Size: int64(len(data))}
	path := d.path(ref)
	if _, err := os.Stat(path); err == nil {
		return ref, nil
	}
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return Ref{}, fmt.Errorf("store: create %s: %w", d.Path, err)
	}
	tmp, err := os.CreateTemp(d.Path, ".put-*")
	if err != nil {
		return Ref{}, fmt.Errorf("store: %w", err)
	}
	defer os.Remove(tmp.Name())
	zw := gzip.NewWriter(tmp)
	if _, err := zw.Write(data); err != nil {
		tmp.Close()
		return Ref{}, fmt.Errorf("store: write %s: %w", kind, err)
	}
	if err := errors.Join(zw.Close(), tmp.Close()); err != nil {
		return Ref{}, fmt.Errorf("store: write %s: %w", kind, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Ref{}, fmt.Errorf("store: %w", err)
	}
	return ref, nil
}

// Get reads the document ref points at into v and checks its digest.
func (d Dir) Get(_ context.Context, ref Ref, v any) error {
	if !kindPattern.MatchString(ref.Key) {
		return fmt.Errorf("store: invalid key %q", ref.Key)
	}
	f, err := os.Open(d.path(ref))
	if err != nil {
		return fmt.Errorf("store: document %s is not in %s (was it written by a worker with another data directory?): %w", ref.Key, d.Path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("store: read %s: %w", ref.Key, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("store: read %s: %w", ref.Key, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != ref.Digest {
		return fmt.Errorf("store: document %s has digest %s, want %s: it was changed after it was written", ref.Key, got, ref.Digest)
	}
	return json.Unmarshal(data, v)
}

func (d Dir) path(ref Ref) string {
	return filepath.Join(d.Path, ref.Key+".json.gz")
}
