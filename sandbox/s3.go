package sandbox

// The sandbox's S3, for the store (--store s3): gofakes3, a well-kept
// in-process S3 emulator, with an in-memory backend, on a listener of its
// own (S3 is addressed by path, unlike the sandbox's other AWS APIs, which
// share one endpoint). The AWS CLI reads it like any S3 endpoint.

import (
	"fmt"
	"io"
	"net/http"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// StoreBucket is the bucket the sandbox's S3 has from the start, for the
// store's documents.
const StoreBucket = "ssocutover-store"

// newS3 returns the S3 emulator's handler and its backend, with the store's
// bucket made.
func newS3() (http.Handler, *s3mem.Backend, error) {
	backend := s3mem.New()
	if err := backend.CreateBucket(StoreBucket); err != nil {
		return nil, nil, fmt.Errorf("sandbox: create the S3 bucket %s: %w", StoreBucket, err)
	}
	return gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server(), backend, nil
}

// S3Objects returns the objects of the store's bucket, by key.
func (s *Sandbox) S3Objects() (map[string][]byte, error) {
	list, err := s.s3.ListBucket(StoreBucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		return nil, err
	}
	objects := map[string][]byte{}
	for _, c := range list.Contents {
		obj, err := s.s3.GetObject(StoreBucket, c.Key, nil)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(obj.Contents)
		obj.Contents.Close()
		if err != nil {
			return nil, err
		}
		objects[c.Key] = data
	}
	return objects, nil
}
