// Package codec encrypts every Temporal payload the worker and the starter
// write (workflow inputs, results, signals, queries, activity arguments) with
// AES-256-GCM, so what the Temporal server stores and shows is ciphertext.
//
// An encrypted payload follows the convention of Temporal's encryption
// sample: its metadata says "encoding: binary/encrypted" and names the key in
// "encryption-key-id"; its data is a random nonce followed by the sealed
// original payload (the whole protobuf, metadata included). The key ID is
// also the sealed message's additional data, so a payload relabelled with
// another key ID does not open.
//
// Several keys can be loaded: the first encrypts, all of them decrypt, so a
// key can be rotated without losing the histories written under the old one.
// Payloads that are not encrypted (the plain JSON of `temporal workflow
// signal` run without --codec-endpoint) pass through unchanged, except for
// the worker: its codec refuses plain JSON from outside (RefusingPlaintext),
// so that whoever can reach Temporal cannot start a cutover or send a
// decision without the keys.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// The metadata of an encrypted payload.
const (
	// EncodingEncrypted is the "encoding" metadata value of an encrypted payload.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID is the metadata entry naming the key that encrypted it.
	MetadataKeyID = "encryption-key-id"
)

// Codec is a converter.PayloadCodec that encrypts with the keyring's current
// key and decrypts with any of its keys.
type Codec struct {
	keys *Keyring
	// refusePlaintext replaces plain JSON with RefusedPlaintext.
	refusePlaintext bool
}

// RefusedPlaintextField is the one field of the JSON object a refusing
// codec decodes a plain JSON payload into: requests and decisions carry it
// (json:"refusedPlaintext"), and the workflows refuse them for it, as they
// refuse any invalid input, without failing a workflow task.
const RefusedPlaintextField = "refusedPlaintext"

// RefusedPlaintextReason is the value of RefusedPlaintextField: what the
// sender does instead.
const RefusedPlaintextReason = "it was sent without encryption (plain JSON); send it with the starter, or with the temporal CLI's " +
	"--codec-endpoint (and --codec-auth) pointing at 'starter codec-server'; a worker with " + EnvAllowPlaintext + "=1 takes plain JSON"

// EnvAllowPlaintext, set to 1 on a worker, lets it take plain JSON
// payloads from outside (the behaviour before payloads were encrypted).
const EnvAllowPlaintext = "SSOCUTOVER_ALLOW_PLAINTEXT"

// RefusingPlaintext is c for a worker: a plain JSON payload decodes into
// {"refusedPlaintext": RefusedPlaintextReason} instead of what was sent.
// Everything the worker and the starter write is encrypted, so only a
// sender without the keys writes plain JSON.
func (c *Codec) RefusingPlaintext() *Codec {
	return &Codec{keys: c.keys, refusePlaintext: true}
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns the codec of keys.
func New(keys *Keyring) *Codec {
	return &Codec{keys: keys}
}

// DataConverter is the SDK's default data converter with payloads encrypted
// by c: what the worker's and the starter's clients use.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// CurrentKeyID names the key new payloads are encrypted with.
func (c *Codec) CurrentKeyID() string {
	return c.keys.current.id
}

// Encode encrypts each payload with the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		encrypted, err := c.encrypt(p)
		if err != nil {
			return nil, err
		}
		out[i] = encrypted
	}
	return out, nil
}

// Decode decrypts each encrypted payload with the key its metadata names and
// returns the others as they are.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !IsEncrypted(p) {
			out[i] = p
			if c.refusePlaintext && string(p.GetMetadata()[converter.MetadataEncoding]) == converter.MetadataEncodingJSON {
				out[i] = refusedPlaintext
			}
			continue
		}
		decrypted, err := c.decrypt(p)
		if err != nil {
			return nil, err
		}
		out[i] = decrypted
	}
	return out, nil
}

// refusedPlaintext is what a refusing codec decodes plain JSON into.
var refusedPlaintext = &commonpb.Payload{
	Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
	Data:     []byte(`{"` + RefusedPlaintextField + `":"` + RefusedPlaintextReason + `"}`),
}

// IsEncrypted says whether p is a payload this codec encrypted.
func IsEncrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == EncodingEncrypted
}

func (c *Codec) encrypt(p *commonpb.Payload) (*commonpb.Payload, error) {
	plain, err := proto.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encrypt a payload: marshal it: %w", err)
	}
	key := c.keys.current
	nonce := make([]byte, key.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("encrypt a payload: no random nonce: %w", err)
	}
	// Seal appends to nonce: the data is nonce || ciphertext || tag.
	sealed := key.aead.Seal(nonce, nonce, plain, []byte(key.id))
	return &commonpb.Payload{
		Metadata: map[string][]byte{
			converter.MetadataEncoding: []byte(EncodingEncrypted),
			MetadataKeyID:              []byte(key.id),
		},
		Data: sealed,
	}, nil
}

// ErrDecrypt is in the chain of every error of a payload that does not
// decrypt: unknown key, wrong key, truncated or tampered data.
var ErrDecrypt = errors.New("cannot decrypt the payload")

func (c *Codec) decrypt(p *commonpb.Payload) (*commonpb.Payload, error) {
	id := string(p.GetMetadata()[MetadataKeyID])
	if id == "" {
		return nil, fmt.Errorf("%w: it names no key (metadata %q is missing)", ErrDecrypt, MetadataKeyID)
	}
	key, ok := c.keys.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: it was encrypted with key %q, which is not among the keys loaded (%s); add that key after the current one in %s or the key file",
			ErrDecrypt, id, c.keys.IDs(), EnvKeys)
	}
	nonceSize := key.aead.NonceSize()
	if len(p.GetData()) < nonceSize+key.aead.Overhead() {
		return nil, fmt.Errorf("%w: its data is too short to be an encrypted payload (truncated?)", ErrDecrypt)
	}
	nonce, sealed := p.GetData()[:nonceSize], p.GetData()[nonceSize:]
	plain, err := key.aead.Open(nil, nonce, sealed, []byte(id))
	if err != nil {
		// The AEAD says nothing more, and neither do we: no key, no data.
		return nil, fmt.Errorf("%w with key %q: it was altered, or that key ID now names another key", ErrDecrypt, id)
	}
	var original commonpb.Payload
	if err := proto.Unmarshal(plain, &original); err != nil {
		return nil, fmt.Errorf("%w: the decrypted data is not a payload: %v", ErrDecrypt, err)
	}
	return &original, nil
}

// newAEAD is AES-256-GCM with key, which must be 32 bytes.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
