// Package store keeps large documents (inventories, reports) out of workflow
// history. An activity puts a document and hands the workflow a Ref: a key
// and the SHA-256 digest of the content, so whoever reads it back can tell it
// is the document the workflow saw.
//
// Documents are gzipped JSON, sealed with the payload codec's keys when a
// Sealer is set (the worker always sets one: inventories hold every user's
// name and e-mail), and kept as objects in a local directory (Dir) or an S3
// bucket (internal/store/s3store).
package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Sealer encrypts documents at rest (*codec.Codec is one). The name is bound
// to the ciphertext: a document opens only under the name it was sealed as.
type Sealer interface {
	Seal(plain []byte, name string) ([]byte, error)
	Open(sealed []byte, name string) ([]byte, error)
}

// ErrNotFound is in the chain of the error of an object that is not there.
var ErrNotFound = errors.New("no such document")

// Objects is where the documents' bytes are kept: a directory, a bucket.
type Objects interface {
	// HasObject says whether the object name exists.
	HasObject(ctx context.Context, name string) (bool, error)
	// WriteObject writes the object name whole, or not at all.
	WriteObject(ctx context.Context, name string, data []byte) error
	// ReadObject reads the object name; ErrNotFound when it is not there.
	ReadObject(ctx context.Context, name string) ([]byte, error)
	// Location says where the objects are, for errors.
	Location() string
}

// Documents is a Store on objects. Documents are content-addressed, so
// putting the same document twice (an activity retried, on any worker)
// writes one object.
type Documents struct {
	Objects Objects
	// Sealer, when set, seals what is written; what is read is opened
	// when it is sealed, so documents written before sealing was turned on
	// still read.
	Sealer Sealer
}

var kindPattern = regexp.MustCompile(`^[a-z0-9-]+$`)

// objectSuffix ends every object name: gzipped JSON, perhaps sealed.
const objectSuffix = ".json.gz"

// Put stores v as gzipped JSON under kind and its digest.
func (d Documents) Put(ctx context.Context, kind string, v any) (Ref, error) {
	if !kindPattern.MatchString(kind) {
		return Ref{}, fmt.Errorf("store: invalid kind %q", kind)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return Ref{}, fmt.Errorf("store: encode %s: %w", kind, err)
	}
	sum := sha256.Sum256(data)
	ref := Ref{Key: kind + "-" + hex.EncodeToString(sum[:]), Digest: hex.EncodeToString(sum[:]), Size: int64(len(data))}
	name := ref.Key + objectSuffix
	if has, err := d.Objects.HasObject(ctx, name); err != nil {
		return Ref{}, fmt.Errorf("store: %w", err)
	} else if has {
		return ref, nil
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	if _, err := zw.Write(data); err != nil {
		return Ref{}, fmt.Errorf("store: compress %s: %w", kind, err)
	}
	if err := zw.Close(); err != nil {
		return Ref{}, fmt.Errorf("store: compress %s: %w", kind, err)
	}
	object := zipped.Bytes()
	if d.Sealer != nil {
		if object, err = d.Sealer.Seal(object, name); err != nil {
			return Ref{}, fmt.Errorf("store: %w", err)
		}
	}
	if err := d.Objects.WriteObject(ctx, name, object); err != nil {
		return Ref{}, fmt.Errorf("store: write %s: %w", ref.Key, err)
	}
	return ref, nil
}

// Get reads the document ref points at into v and checks its digest.
func (d Documents) Get(ctx context.Context, ref Ref, v any) error {
	if !kindPattern.MatchString(ref.Key) {
		return fmt.Errorf("store: invalid key %q", ref.Key)
	}
	name := ref.Key + objectSuffix
	object, err := d.Objects.ReadObject(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: document %s is not in %s (was it written by a worker with another store?): %w", ref.Key, d.Objects.Location(), err)
	}
	if err != nil {
		return fmt.Errorf("store: read %s: %w", ref.Key, err)
	}
	if isSealed(object) {
		if d.Sealer == nil {
			return fmt.Errorf("store: document %s is encrypted, and this program has no payload keys to open it (set the codec keys, as for the worker)", ref.Key)
		}
		if object, err = d.Sealer.Open(object, name); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(object))
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

// isSealed tells a sealed object from plain gzip by gzip's magic number:
// a sealed one starts with text (codec.IsSealed), which the store does not
// import so that workflow code can use Ref without the codec.
func isSealed(object []byte) bool {
	return len(object) >= 2 && !(object[0] == 0x1f && object[1] == 0x8b)
}
