package cli

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseRequest feeds the request file parser arbitrary files. It must
// never panic, and what it accepts must be a valid request that survives a
// round trip through JSON unchanged (an empty list and none are the same). The corpus is testdata/fuzz/FuzzParseRequest.
//
//	go test ./starter -run '^$' -fuzz FuzzParseRequest -fuzztime 60s
func FuzzParseRequest(f *testing.F) {
	f.Add("request.yaml", []byte("identityStoreId: d-1234567890\nregion: eu-west-1\nentraTenantId: 00000000-0000-0000-0000-000000000001\nrequestedBy: jane\n"))
	f.Add("request.json", []byte(`{"identityStoreId":"d-1234567890","region":"eu-west-1","entraTenantId":"00000000-0000-0000-0000-000000000001","requestedBy":"jane","gateTimeout":"72h","onGateTimeout":"rollback"}`))
	f.Add("", []byte(`{"identityStoreId":"d-1234567890"}`))
	f.Add("r.yml", []byte("identityStoreId: [1, 2]\n---\nregion: x\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		req, err := parseRequest(name, data)
		if err != nil {
			return
		}
		require.NoError(t, req.Validate(), "an accepted request is valid")
		encoded, err := json.Marshal(req)
		require.NoError(t, err)
		again, err := parseRequest("again.json", encoded)
		require.NoError(t, err, "an accepted request parses again from its JSON")
		// Compared as JSON: an empty list and no list are the same request.
		reencoded, err := json.Marshal(again)
		require.NoError(t, err)
		require.JSONEq(t, string(encoded), string(reencoded))
	})
}
