package approval

import (
	"bytes"
	"encoding/pem"
	"testing"
)

func pemEncode(block *pem.Block) []byte { return pem.EncodeToMemory(block) }

// FuzzVerify feeds Verify any signature and statement. It must never panic,
// and it may only accept a statement an approver really signed: the vectors
// in testdata are the only signatures the fuzzer can start from, so an
// accepted statement other than testdata/statement.txt would be a forgery.
// The seed corpus is in testdata/fuzz/FuzzVerify; run with
//
//	go test -fuzz FuzzVerify ./internal/approval/
func FuzzVerify(f *testing.F) {
	approvers := testdataApprovers(f)
	signed := []byte(readTestdata(f, "statement.txt"))
	for _, name := range []string{"ed25519", "ecdsa", "rsa", "ed25519-namespace-git"} {
		f.Add(readTestdata(f, "statement-"+name+".txt.sig"), signed)
	}
	f.Fuzz(func(t *testing.T, armored string, statement []byte) {
		a, err := Verify(armored, statement, approvers)
		if err != nil {
			return
		}
		if !bytes.Equal(statement, signed) {
			t.Fatalf("Verify accepted a statement nobody signed, as signed by %s:\n%s", a.Name, statement)
		}
		if a.Name == "" || a.Fingerprint == "" {
			t.Fatalf("Verify accepted a signature without naming its approver: %+v", a)
		}
	})
}
