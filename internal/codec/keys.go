package codec

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Where the keys come from.
const (
	// EnvKeys holds keys as "id:base64key,id:base64key"; the first is the
	// current one, which encrypts.
	EnvKeys = "SSOCUTOVER_CODEC_KEYS"
	// EnvKeyFile names a file with one "id:base64key" per line (blank lines
	// and lines starting with # are skipped); the first is the current one.
	// Only its owner may read it.
	EnvKeyFile = "SSOCUTOVER_CODEC_KEY_FILE"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// MakeKeyHint says how to make a key; every "no key" error ends with it.
const MakeKeyHint = "Make a key with `starter codec-key` (or `echo \"k1:$(openssl rand -base64 32)\"`), then set " +
	EnvKeys + "=<that line> or put it in a file only you can read (chmod 600) and set " + EnvKeyFile + " or --codec-key-file. " +
	"Every worker and starter of a namespace needs the same keys."

// ErrNoKey is returned by Load when no key is configured.
var ErrNoKey = errors.New("no payload encryption key")

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// key is one named AES-256-GCM key. The key bytes live only inside aead.
type key struct {
	id   string
	aead cipher.AEAD
}

// Keyring holds the keys: current encrypts, every one decrypts.
type Keyring struct {
	current key
	byID    map[string]key
	order   []string
}

// IDs lists the key IDs, the current one first.
func (k *Keyring) IDs() string {
	return strings.Join(k.order, ", ")
}

// ParseKeys reads keys written as "id:base64key" entries separated by commas
// or newlines; the first is the current key. source names where they came
// from, for errors, which never quote a key.
func ParseKeys(text, source string) (*Keyring, error) {
	ring := &Keyring{byID: map[string]key{}}
	n := 0
	for _, entry := range keyEntries(text) {
		n++
		k, err := parseKey(entry)
		if err != nil {
			return nil, fmt.Errorf("%s, key %d: %w. %s", source, n, err, MakeKeyHint)
		}
		if _, dup := ring.byID[k.id]; dup {
			return nil, fmt.Errorf("%s: key ID %q appears twice; give each key its own ID", source, k.id)
		}
		if n == 1 {
			ring.current = k
		}
		ring.byID[k.id] = k
		ring.order = append(ring.order, k.id)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: %s holds none. %s", ErrNoKey, source, MakeKeyHint)
	}
	return ring, nil
}

// keyEntries splits text into its "id:base64key" entries: lines, each of
// which may hold several separated by commas; blank lines and comment lines
// (starting with #) hold none.
func keyEntries(text string) []string {
	var entries []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			if entry = strings.TrimSpace(entry); entry != "" {
				entries = append(entries, entry)
			}
		}
	}
	return entries
}

// parseKey reads one "id:base64key". Its errors never hold the key.
func parseKey(entry string) (key, error) {
	id, encoded, ok := strings.Cut(entry, ":")
	if !ok {
		return key{}, errors.New(`want "id:base64key"`)
	}
	id, encoded = strings.TrimSpace(id), strings.TrimSpace(encoded)
	if !keyIDPattern.MatchString(id) {
		return key{}, errors.New("the key ID must be 1 to 64 letters, digits, '.', '_' or '-'")
	}
	secret, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return key{}, fmt.Errorf("key %q is not standard base64", id)
	}
	if len(secret) != KeySize {
		return key{}, fmt.Errorf("key %q is %d bytes once decoded; AES-256 needs %d", id, len(secret), KeySize)
	}
	aead, err := newAEAD(secret)
	clear(secret)
	if err != nil {
		return key{}, fmt.Errorf("key %q: %w", id, err)
	}
	return key{id: id, aead: aead}, nil
}

// ReadKeyFile reads the keys of a file only its owner can read.
func ReadKeyFile(path string) (*Keyring, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read the payload key file: %w. %s", err, MakeKeyHint)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the payload key file %s has mode %#o: others than its owner can reach it; run `chmod 600 %s`",
			path, info.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the payload key file: %w", err)
	}
	return ParseKeys(string(data), "the key file "+path)
}

// KeySource says where to find the keys: the keys themselves (from the
// environment only: a flag would show them in the process list) or a file.
type KeySource struct {
	Keys    string
	KeyFile string
}

// KeySourceFromEnv is the key source the environment names.
func KeySourceFromEnv(getenv func(string) string) KeySource {
	return KeySource{Keys: getenv(EnvKeys), KeyFile: getenv(EnvKeyFile)}
}

// RegisterFlags adds --codec-key-file, defaulting to the environment's.
func (s *KeySource) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&s.KeyFile, "codec-key-file", s.KeyFile,
		"file of payload encryption keys, one id:base64key a line, the first encrypts; mode 600 (env "+EnvKeyFile+"; or the keys themselves in env "+EnvKeys+")")
}

// Configured says whether a key source is set.
func (s KeySource) Configured() bool {
	return s.Keys != "" || s.KeyFile != ""
}

// Load reads the keys. With neither source set it returns ErrNoKey, with
// how to make a key; with both it refuses to guess.
func (s KeySource) Load() (*Keyring, error) {
	switch {
	case s.Keys != "" && s.KeyFile != "":
		return nil, fmt.Errorf("payload keys are set twice, in %s and in the key file %s (%s or --codec-key-file): keep one", EnvKeys, s.KeyFile, EnvKeyFile)
	case s.Keys != "":
		return ParseKeys(s.Keys, EnvKeys)
	case s.KeyFile != "":
		return ReadKeyFile(s.KeyFile)
	}
	return nil, fmt.Errorf("%w: the payloads in Temporal are encrypted and this program needs the key. %s", ErrNoKey, MakeKeyHint)
}

// LoadCodec is Load followed by New.
func (s KeySource) LoadCodec() (*Codec, error) {
	keys, err := s.Load()
	if err != nil {
		return nil, err
	}
	return New(keys), nil
}

// NewKeyLine returns a fresh random key as an "id:base64key" line; its ID is
// today's date and a random suffix, so rotated keys sort and never collide.
func NewKeyLine(now time.Time) (string, error) {
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("no random key: %w", err)
	}
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		return "", fmt.Errorf("no random key ID: %w", err)
	}
	id := "k" + now.UTC().Format("20060102") + "-" + hex.EncodeToString(suffix)
	return id + ":" + base64.StdEncoding.EncodeToString(secret), nil
}

// WriteNewKeyFile creates path holding a new key, readable by its owner
// only. It refuses to replace an existing file, which may hold the only key
// to older histories.
func WriteNewKeyFile(path string, now time.Time) error {
	line, err := NewKeyLine(now)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create the payload key file: %w", err)
	}
	const header = "# Payload encryption keys of ssocutover, one id:base64key a line; the first encrypts, all decrypt.\n"
	if _, err := fmt.Fprintf(f, "%s%s\n", header, line); err != nil {
		f.Close()
		return fmt.Errorf("write the payload key file: %w", err)
	}
	return f.Close()
}
