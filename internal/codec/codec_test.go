package codec

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// testKeyLine is a new random key line; it fails the test on error.
func testKeyLine(t *testing.T) string {
	t.Helper()
	line, err := NewKeyLine(time.Now())
	require.NoError(t, err)
	return line
}

func testCodec(t *testing.T, lines ...string) *Codec {
	t.Helper()
	keys, err := ParseKeys(strings.Join(lines, ","), "test")
	require.NoError(t, err)
	return New(keys)
}

// request is a value with fields that must not show in encrypted payloads.
type request struct {
	IdentityStoreID string `json:"identityStoreId"`
	RequestedBy     string `json:"requestedBy"`
}

var sample = request{IdentityStoreID: "d-1234567890", RequestedBy: "alice@corp.example"}

func TestRoundTripThroughTheDataConverter(t *testing.T) {
	c := testCodec(t, testKeyLine(t))
	dc := c.DataConverter()

	payload, err := dc.ToPayload(sample)
	require.NoError(t, err)
	require.True(t, IsEncrypted(payload))
	require.Equal(t, EncodingEncrypted, string(payload.Metadata[converter.MetadataEncoding]))
	require.Equal(t, c.CurrentKeyID(), string(payload.Metadata[MetadataKeyID]))
	require.Len(t, payload.Metadata, 2, "the original metadata (json/plain) is inside the ciphertext")
	requireNoPlaintext(t, payload)

	var back request
	require.NoError(t, dc.FromPayload(payload, &back))
	require.Equal(t, sample, back)
}

func TestEncryptingTwiceGivesDifferentCiphertexts(t *testing.T) {
	c := testCodec(t, testKeyLine(t))
	plain, err := converter.GetDefaultDataConverter().ToPayload(sample)
	require.NoError(t, err)
	a, err := c.Encode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	b, err := c.Encode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	require.NotEqual(t, a[0].Data, b[0].Data, "each encryption draws a fresh nonce")
}

func TestKeyRotationOldKeyDecodesNewKeyEncodes(t *testing.T) {
	oldLine, newLine := testKeyLine(t), testKeyLine(t)
	before := testCodec(t, oldLine)
	written, err := before.DataConverter().ToPayload(sample)
	require.NoError(t, err)

	after := testCodec(t, newLine, oldLine)
	var back request
	require.NoError(t, after.DataConverter().FromPayload(written, &back), "the old key still decodes")
	require.Equal(t, sample, back)

	fresh, err := after.DataConverter().ToPayload(sample)
	require.NoError(t, err)
	newID, _, _ := strings.Cut(newLine, ":")
	require.Equal(t, newID, string(fresh.Metadata[MetadataKeyID]), "the first key encrypts")

	// Without the old key, the old payload is refused, naming the key it needs.
	_, err = testCodec(t, newLine).Decode([]*commonpb.Payload{written})
	require.ErrorIs(t, err, ErrDecrypt)
	oldID, _, _ := strings.Cut(oldLine, ":")
	require.ErrorContains(t, err, oldID)
	require.ErrorContains(t, err, EnvKeys)
}

func TestTamperedPayloadsAreRefused(t *testing.T) {
	line := testKeyLine(t)
	c := testCodec(t, line)
	encode := func() *commonpb.Payload {
		p, err := c.DataConverter().ToPayload(sample)
		require.NoError(t, err)
		return p
	}
	tampered := map[string]*commonpb.Payload{}

	p := encode()
	p.Data[len(p.Data)-5] ^= 0x01
	tampered["a flipped ciphertext bit"] = p

	p = encode()
	p.Data[0] ^= 0x80
	tampered["a flipped nonce bit"] = p

	p = encode()
	p.Data = p.Data[:10]
	tampered["truncated data"] = p

	other := testKeyLine(t)
	otherID, _, _ := strings.Cut(other, ":")
	p = encode()
	p.Metadata[MetadataKeyID] = []byte(otherID)
	tampered["relabelled with another loaded key"] = p

	p = encode()
	delete(p.Metadata, MetadataKeyID)
	tampered["no key ID"] = p

	both := testCodec(t, line, other)
	secret := keySecret(t, line)
	for name, p := range tampered {
		_, err := both.Decode([]*commonpb.Payload{p})
		require.ErrorIs(t, err, ErrDecrypt, name)
		require.NotContains(t, err.Error(), sample.RequestedBy, name)
		require.NotContains(t, err.Error(), secret, name)
	}
}

func TestPlainPayloadsPassThrough(t *testing.T) {
	c := testCodec(t, testKeyLine(t))
	// What `temporal workflow signal --input '{...}'` sends without a codec.
	plain := &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     []byte(`{"gate":"preflight","by":"someone"}`),
	}
	out, err := c.Decode([]*commonpb.Payload{plain, nil})
	require.NoError(t, err)
	require.True(t, proto.Equal(plain, out[0]))

	var signal struct {
		Gate string `json:"gate"`
	}
	require.NoError(t, c.DataConverter().FromPayload(plain, &signal))
	require.Equal(t, "preflight", signal.Gate)
}

func TestParseKeysRefusesBadKeysWithoutQuotingThem(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	cases := map[string]string{
		"k1:" + short:            "16 bytes once decoded",
		"k1:not*base64*at*all!!": "not standard base64",
		"no-colon-here":          `want "id:base64key"`,
		"bad id!:" + short:       "key ID must be",
		"":                       "holds none",
		"# only a comment":       "holds none",
	}
	for text, want := range cases {
		_, err := ParseKeys(text, "test")
		require.ErrorContains(t, err, want, text)
		if text != "" {
			_, secret, _ := strings.Cut(text, ":")
			if secret != "" {
				require.NotContains(t, err.Error(), secret, "the error quotes no key")
			}
		}
		require.ErrorContains(t, err, "starter codec-key", "the error says how to make a key")
	}
	line := testKeyLine(t)
	_, err := ParseKeys(line+","+line, "test")
	require.ErrorContains(t, err, "appears twice")
}

func TestKeySource(t *testing.T) {
	_, err := KeySourceFromEnv(func(string) string { return "" }).Load()
	require.ErrorIs(t, err, ErrNoKey)
	require.ErrorContains(t, err, "openssl rand -base64 32")

	line := testKeyLine(t)
	env := map[string]string{EnvKeys: line}
	keys, err := KeySourceFromEnv(func(k string) string { return env[k] }).Load()
	require.NoError(t, err)
	id, _, _ := strings.Cut(line, ":")
	require.Equal(t, id, keys.IDs())

	env[EnvKeyFile] = "/somewhere/keys"
	_, err = KeySourceFromEnv(func(k string) string { return env[k] }).Load()
	require.ErrorContains(t, err, "set twice")
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys")
	require.NoError(t, WriteNewKeyFile(path, time.Now()))
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	require.Error(t, WriteNewKeyFile(path, time.Now()), "an existing key file is never replaced")

	keys, err := KeySource{KeyFile: path}.Load()
	require.NoError(t, err)
	require.NotEmpty(t, keys.IDs())

	// A second, older key on a later line decodes, the first encrypts.
	old := testKeyLine(t)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(data, []byte("\n"+old+"\n")...), 0o600))
	keys, err = ReadKeyFile(path)
	require.NoError(t, err)
	require.Contains(t, keys.IDs(), ", ")

	require.NoError(t, os.Chmod(path, 0o640))
	_, err = ReadKeyFile(path)
	require.ErrorContains(t, err, "chmod 600")
	require.NotContains(t, err.Error(), keySecret(t, old))

	_, err = ReadKeyFile(filepath.Join(dir, "missing"))
	require.ErrorContains(t, err, "starter codec-key")
}

func TestNewKeyLineParses(t *testing.T) {
	a, b := testKeyLine(t), testKeyLine(t)
	require.NotEqual(t, a, b)
	_, err := ParseKeys(a, "test")
	require.NoError(t, err)
}

// requireNoPlaintext fails when the payload shows the sample's values.
func requireNoPlaintext(t *testing.T, p *commonpb.Payload) {
	t.Helper()
	wire, err := proto.Marshal(p)
	require.NoError(t, err)
	for _, s := range []string{sample.RequestedBy, sample.IdentityStoreID, "json/plain"} {
		require.False(t, bytes.Contains(wire, []byte(s)), "%q shows in the encrypted payload", s)
	}
}

func keySecret(t *testing.T, line string) string {
	t.Helper()
	_, secret, ok := strings.Cut(line, ":")
	require.True(t, ok)
	return secret
}

// A worker's codec refuses plain JSON from outside: it decodes into the
// refusal, whatever was sent, while its own encrypted payloads and nil
// payloads read as they are.
func TestARefusingCodecReplacesPlainJSON(t *testing.T) {
	c := testCodec(t, testKeyLine(t)).RefusingPlaintext()
	plain := &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     []byte(`{"gate":"preflight","by":"someone"}`),
	}
	null := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingNil)}}
	encrypted, err := c.Encode([]*commonpb.Payload{proto.Clone(plain).(*commonpb.Payload)})
	require.NoError(t, err)

	out, err := c.Decode([]*commonpb.Payload{plain, null, encrypted[0]})
	require.NoError(t, err)
	var decision struct {
		Gate             string `json:"gate"`
		RefusedPlaintext string `json:"refusedPlaintext"`
	}
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(out[0], &decision))
	require.Empty(t, decision.Gate, "nothing of what was sent is taken")
	require.Contains(t, decision.RefusedPlaintext, "--codec-endpoint")
	require.True(t, proto.Equal(null, out[1]))
	require.True(t, proto.Equal(plain, out[2]), "its own payloads decrypt as they are")
}
