package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir is a Store in a local directory: the default, for one worker (or
// several on one machine). Documents are sealed when Sealer is set.
type Dir struct {
	Path   string
	Sealer Sealer
}

// Put stores v (Documents.Put).
func (d Dir) Put(ctx context.Context, kind string, v any) (Ref, error) {
	return d.documents().Put(ctx, kind, v)
}

// Get reads a document (Documents.Get).
func (d Dir) Get(ctx context.Context, ref Ref, v any) error {
	return d.documents().Get(ctx, ref, v)
}

func (d Dir) documents() Documents {
	return Documents{Objects: dirObjects(d.Path), Sealer: d.Sealer}
}

func (d Dir) path(ref Ref) string {
	return filepath.Join(d.Path, ref.Key+objectSuffix)
}

// dirObjects keeps objects as files of a directory.
type dirObjects string

func (o dirObjects) HasObject(_ context.Context, name string) (bool, error) {
	_, err := os.Stat(filepath.Join(string(o), name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// WriteObject writes a temporary file and renames it, so a reader never
// sees half an object.
func (o dirObjects) WriteObject(_ context.Context, name string, data []byte) error {
	dir := string(o)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}

func (o dirObjects) ReadObject(_ context.Context, name string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(string(o), name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return data, err
}

func (o dirObjects) Location() string { return string(o) }
