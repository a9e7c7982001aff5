package codec

// Documents at rest (the store's inventories and reports, which hold every
// user's name and e-mail) are sealed with the same keys as the payloads, so
// a bucket or a disk holds no personal data in clear and a key rotation
// covers both.
//
// A sealed document is the line "ssocutover-sealed/1 <key ID>\n" followed by
// a random nonce and the AES-256-GCM ciphertext. The additional data is the
// key ID and the document's name, so a document copied under another name
// or relabelled with another key does not open.

import (
	"bytes"
	"crypto/rand"
	"fmt"
)

// sealedHeader starts every sealed document.
const sealedHeader = "ssocutover-sealed/1 "

// IsSealed says whether data is a document Seal wrote.
func IsSealed(data []byte) bool {
	return bytes.HasPrefix(data, []byte(sealedHeader))
}

// Seal encrypts plain with the current key; name is the document's name,
// which Open must be given again.
func (c *Codec) Seal(plain []byte, name string) ([]byte, error) {
	key := c.keys.current
	out := make([]byte, 0, len(sealedHeader)+len(key.id)+1+key.aead.NonceSize()+len(plain)+key.aead.Overhead())
	out = append(out, sealedHeader...)
	out = append(out, key.id...)
	out = append(out, '\n')
	nonce := make([]byte, key.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal %s: no random nonce: %w", name, err)
	}
	out = append(out, nonce...)
	return key.aead.Seal(out, nonce, plain, sealedAD(key.id, name)), nil
}

// Open decrypts a document Seal wrote under name, with the key it names.
func (c *Codec) Open(sealed []byte, name string) ([]byte, error) {
	if !IsSealed(sealed) {
		return nil, fmt.Errorf("%w: %s is not a sealed document", ErrDecrypt, name)
	}
	id, rest, ok := bytes.Cut(sealed[len(sealedHeader):], []byte{'\n'})
	if !ok {
		return nil, fmt.Errorf("%w: %s has no key ID line (truncated?)", ErrDecrypt, name)
	}
	key, found := c.keys.byID[string(id)]
	if !found {
		return nil, fmt.Errorf("%w: %s was sealed with key %q, which is not among the keys loaded (%s); add that key after the current one in %s or the key file",
			ErrDecrypt, name, id, c.keys.IDs(), EnvKeys)
	}
	if len(rest) < key.aead.NonceSize()+key.aead.Overhead() {
		return nil, fmt.Errorf("%w: %s is too short to be sealed (truncated?)", ErrDecrypt, name)
	}
	nonce, ciphertext := rest[:key.aead.NonceSize()], rest[key.aead.NonceSize():]
	plain, err := key.aead.Open(nil, nonce, ciphertext, sealedAD(key.id, name))
	if err != nil {
		return nil, fmt.Errorf("%w: %s does not open with key %q: it was altered, renamed, or that key ID now names another key", ErrDecrypt, name, key.id)
	}
	return plain, nil
}

func sealedAD(keyID, name string) []byte {
	return []byte(keyID + "\x00" + name)
}
