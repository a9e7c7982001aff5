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
	"errors"
	"fmt"
	"io"
	"regexp"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
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
//
// The JSON is encoded, hashed and compressed as it goes, so only the
// compressed document is ever held whole: an inventory of 100,000 users is
// about 50 MB of JSON and a few MB gzipped.
func (d Documents) Put(ctx context.Context, kind string, v any) (Ref, error) {
	if !kindPattern.MatchString(kind) {
		return Ref{}, fmt.Errorf("store: invalid kind %q", kind)
	}
	digest, size := sha256.New(), &countingWriter{}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	if err := jsonv2.MarshalWrite(io.MultiWriter(digest, size, zw), v, jsonOptions); err != nil {
		return Ref{}, fmt.Errorf("store: encode %s: %w", kind, err)
	}
	if err := zw.Close(); err != nil {
		return Ref{}, fmt.Errorf("store: compress %s: %w", kind, err)
	}
	sum := hex.EncodeToString(digest.Sum(nil))
	ref := Ref{Key: kind + "-" + sum, Digest: sum, Size: size.n}
	name := ref.Key + objectSuffix
	if has, err := d.Objects.HasObject(ctx, name); err != nil {
		return Ref{}, fmt.Errorf("store: %w", err)
	} else if has {
		return ref, nil
	}
	object := zipped.Bytes()
	if d.Sealer != nil {
		var err error
		if object, err = d.Sealer.Seal(object, name); err != nil {
			return Ref{}, fmt.Errorf("store: %w", err)
		}
	}
	if err := d.Objects.WriteObject(ctx, name, object); err != nil {
		return Ref{}, fmt.Errorf("store: write %s: %w", ref.Key, err)
	}
	return ref, nil
}

// jsonOptions encode and decode exactly as encoding/json does, so that a
// document keeps its bytes and digest, and documents stored before still
// read. (The JSON v2 implementation is used for its streaming: encoding/json
// holds a whole value in memory before it writes or decodes it.)
var jsonOptions = jsonv1.DefaultOptionsV1()

// internStrings decodes every JSON string into one Go string per distinct
// value. Inventories name the same users over and over (a user is a member
// of ten groups on average, and the analysis reads both inventories at
// once): at 100,000 users that is two million strings, and a hundred
// thousand distinct ones.
func internStrings() *jsonv2.Unmarshalers {
	seen := map[string]string{}
	var buf []byte
	return jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, s *string) error {
		if dec.PeekKind() != '"' {
			return jsonv2.SkipFunc // null, or a mistyped value: the default says what is wrong
		}
		raw, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if buf, err = jsontext.AppendUnquote(buf[:0], raw); err != nil {
			return err
		}
		// Looking up string(buf) copies nothing; only a new value is copied,
		// once, as both the key and the value.
		if known, ok := seen[string(buf)]; ok {
			*s = known
			return nil
		}
		*s = string(buf)
		seen[*s] = *s
		return nil
	})
}

// countingWriter counts the bytes written through it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
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
	// Decoded as it is read, and hashed on the way: the JSON is never held
	// whole. v is only trusted once the digest matches.
	digest := sha256.New()
	data := io.TeeReader(zr, digest)
	decodeErr := jsonv2.UnmarshalRead(data, v, jsonOptions, jsonv2.WithUnmarshalers(internStrings()),
		// encoding/json's way of reporting errors reads the whole document
		// first, to check it before decoding any of it.
		jsonv1.ReportErrorsWithLegacySemantics(false))
	if _, err := io.Copy(io.Discard, data); err != nil {
		return fmt.Errorf("store: read %s: %w", ref.Key, err)
	}
	if got := hex.EncodeToString(digest.Sum(nil)); got != ref.Digest {
		return fmt.Errorf("store: document %s has digest %s, want %s: it was changed after it was written", ref.Key, got, ref.Digest)
	}
	if decodeErr != nil {
		return fmt.Errorf("store: decode %s: %w", ref.Key, decodeErr)
	}
	return nil
}

// isSealed tells a sealed object from plain gzip by gzip's magic number:
// a sealed one starts with text (codec.IsSealed), which the store does not
// import so that workflow code can use Ref without the codec.
func isSealed(object []byte) bool {
	return len(object) >= 2 && !(object[0] == 0x1f && object[1] == 0x8b)
}
