package store

import (
	"errors"
	"fmt"
	"path"
	"strconv"

	"github.com/spf13/pflag"
)

// The store's kinds.
const (
	// KindDir is the data directory's store/ folder: the default, for one
	// worker, or several that share a disk.
	KindDir = "dir"
	// KindS3 is an S3 bucket (internal/store/s3store): for several workers
	// on several machines.
	KindS3 = "s3"
)

// The environment variables of Settings.
const (
	EnvStore            = "SSOCUTOVER_STORE"
	EnvStoreBucket      = "SSOCUTOVER_STORE_BUCKET"
	EnvStorePrefix      = "SSOCUTOVER_STORE_PREFIX"
	EnvStoreKMSKeyID    = "SSOCUTOVER_STORE_KMS_KEY_ID"
	EnvStoreS3Endpoint  = "SSOCUTOVER_STORE_S3_ENDPOINT_URL"
	EnvStoreS3PathStyle = "SSOCUTOVER_STORE_S3_PATH_STYLE"
)

// Settings choose where documents are kept. The worker and `starter report`
// must be given the same.
type Settings struct {
	Kind     string
	Bucket   string
	Prefix   string
	KMSKeyID string
	// S3Endpoint replaces S3's endpoint (an S3-compatible store, the
	// sandbox's); S3PathStyle puts the bucket in the path, which those need.
	S3Endpoint  string
	S3PathStyle bool

	// invalid is what the environment set that does not parse, for
	// Validate to refuse rather than read as a default.
	invalid string
}

// SettingsFromEnv reads the settings from the environment.
func SettingsFromEnv(getenv func(string) string) Settings {
	var (
		pathStyle bool
		invalid   string
	)
	if v := getenv(EnvStoreS3PathStyle); v != "" {
		var err error
		if pathStyle, err = strconv.ParseBool(v); err != nil {
			invalid = fmt.Sprintf("%s=%q: want true or false", EnvStoreS3PathStyle, v)
		}
	}
	return Settings{
		invalid:     invalid,
		Kind:        getenv(EnvStore),
		Bucket:      getenv(EnvStoreBucket),
		Prefix:      getenv(EnvStorePrefix),
		KMSKeyID:    getenv(EnvStoreKMSKeyID),
		S3Endpoint:  getenv(EnvStoreS3Endpoint),
		S3PathStyle: pathStyle,
	}
}

// RegisterFlags adds the store's flags, with s's values as defaults.
func (s *Settings) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&s.Kind, "store", s.Kind, "where inventories and reports are kept: dir (the data directory, the default) or s3 (env "+EnvStore+")")
	fs.StringVar(&s.Bucket, "store-bucket", s.Bucket, "with --store s3, the bucket (env "+EnvStoreBucket+")")
	fs.StringVar(&s.Prefix, "store-prefix", s.Prefix, "with --store s3, the prefix of the objects' names (env "+EnvStorePrefix+")")
	fs.StringVar(&s.KMSKeyID, "store-kms-key-id", s.KMSKeyID, "with --store s3, a KMS key for SSE-KMS on top of the documents' own encryption (env "+EnvStoreKMSKeyID+")")
	fs.StringVar(&s.S3Endpoint, "store-s3-endpoint-url", s.S3Endpoint, "with --store s3, another S3 endpoint, for an S3-compatible store (env "+EnvStoreS3Endpoint+")")
	fs.BoolVar(&s.S3PathStyle, "store-s3-path-style", s.S3PathStyle, "with --store s3, path-style addressing, which S3-compatible stores need (env "+EnvStoreS3PathStyle+")")
}

// Validate says what is missing or contradictory.
func (s Settings) Validate() error {
	if s.invalid != "" {
		return errors.New(s.invalid)
	}
	switch s.Kind {
	case "", KindDir:
		if s.Bucket != "" {
			return fmt.Errorf("a store bucket (%s) is set, but the store is the data directory: add --store s3 (%s=s3)", EnvStoreBucket, EnvStore)
		}
		return nil
	case KindS3:
		if s.Bucket == "" {
			return fmt.Errorf("--store s3 needs a bucket: --store-bucket or %s", EnvStoreBucket)
		}
		return nil
	}
	return fmt.Errorf("store %q: want %s or %s (--store, %s)", s.Kind, KindDir, KindS3, EnvStore)
}

// Location says where the documents are kept, for logs and checks: the
// bucket and prefix as s3://bucket/prefix, or the store's folder in
// dataDir.
func (s Settings) Location(dataDir string) string {
	if s.IsS3() {
		return "s3://" + path.Join(s.Bucket, s.Prefix)
	}
	return DirIn(dataDir)
}

// IsS3 says whether the documents are in a bucket.
func (s Settings) IsS3() bool { return s.Kind == KindS3 }
