// Package policy reads the approval policy the worker owns
// (SSOCUTOVER_APPROVAL_POLICY), so that who may approve a cutover is not
// declared by the person who requests it. The workflows read it through
// LoadApprovalPolicy when they start and at every gate.
package policy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/platformguide/ssocutover/internal/approval"
	"github.com/platformguide/ssocutover/workflows"
)

// EnvPolicy names the policy file.
const EnvPolicy = "SSOCUTOVER_APPROVAL_POLICY"

// File is the policy file, YAML or JSON:
//
//	approvers:
//	  - name: alice
//	    publicKey: ssh-ed25519 AAAA...
//	allowedSigners: allowed_signers   # ssh-keygen -Y verify's format, beside the file
//	requiredApprovals: {preflight: 2, confirm-sign-in: 1, new-scim-token: 1}
//	fourEyes: true
//	signedOperations: [approve, reject, rollback, retry, skip]
type File struct {
	Approvers         []workflows.Approver `yaml:"approvers" json:"approvers"`
	AllowedSigners    string               `yaml:"allowedSigners" json:"allowedSigners"`
	RequiredApprovals map[string]int       `yaml:"requiredApprovals" json:"requiredApprovals"`
	FourEyes          bool                 `yaml:"fourEyes" json:"fourEyes"`
	SignedOperations  []string             `yaml:"signedOperations" json:"signedOperations"`
}

// Load reads, checks and resolves the policy at path: every approver's
// key parsed, allowed_signers read, and the digest of the result. One key
// counts once whatever names it has: the counts are of distinct keys.
func Load(path string) (workflows.ApprovalPolicy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return workflows.ApprovalPolicy{}, fmt.Errorf("the approval policy %s: %w", path, err)
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return workflows.ApprovalPolicy{}, fmt.Errorf("the approval policy %s is not YAML or JSON of the documented fields: %w", path, err)
	}
	approvers := slices.Clone(f.Approvers)
	if f.AllowedSigners != "" {
		signersPath := f.AllowedSigners
		if !filepath.IsAbs(signersPath) {
			signersPath = filepath.Join(filepath.Dir(path), signersPath)
		}
		more, err := readAllowedSigners(signersPath)
		if err != nil {
			return workflows.ApprovalPolicy{}, err
		}
		approvers = append(approvers, more...)
	}
	p := workflows.ApprovalPolicy{Source: path, Approvers: approvers, RequiredApprovals: f.RequiredApprovals,
		FourEyes: f.FourEyes, SignedOperations: f.SignedOperations}
	if err := check(p); err != nil {
		return workflows.ApprovalPolicy{}, fmt.Errorf("the approval policy %s: %w", path, err)
	}
	slices.SortFunc(p.Approvers, func(a, b workflows.Approver) int { return strings.Compare(a.Name, b.Name) })
	slices.Sort(p.SignedOperations)
	canonical, err := json.Marshal(struct {
		Approvers         []workflows.Approver
		RequiredApprovals map[string]int
		FourEyes          bool
		SignedOperations  []string
	}{p.Approvers, p.RequiredApprovals, p.FourEyes, p.SignedOperations})
	if err != nil {
		return workflows.ApprovalPolicy{}, err
	}
	sum := sha256.Sum256(canonical)
	p.Digest = "sha256:" + hex.EncodeToString(sum[:])
	return p, nil
}

// check applies the policy's rules, every problem at once.
func check(p workflows.ApprovalPolicy) error {
	var errs []error
	keys := map[string]bool{}
	for i, a := range p.Approvers {
		parsed, err := approval.ParseApprover(a.Name, a.PublicKey)
		if err != nil {
			errs = append(errs, fmt.Errorf("approvers[%d]: %w", i, err))
			continue
		}
		keys[parsed.Fingerprint] = true
	}
	if len(p.Approvers) == 0 {
		errs = append(errs, errors.New("it names no approvers: list them (name and publicKey) or point allowedSigners at an allowed_signers file"))
	}
	for gate, n := range p.RequiredApprovals {
		switch {
		case !slices.Contains(workflows.PolicyGates(), gate):
			errs = append(errs, fmt.Errorf("requiredApprovals: %q is not a gate; gates are %s", gate, strings.Join(workflows.PolicyGates(), ", ")))
		case n < 1:
			errs = append(errs, fmt.Errorf("requiredApprovals[%s] is %d: want at least 1", gate, n))
		case n > len(keys):
			errs = append(errs, fmt.Errorf("requiredApprovals[%s] is %d, but the approvers have only %d distinct keys (a key counts once, whatever names it has)", gate, n, len(keys)))
		}
	}
	for _, op := range p.SignedOperations {
		if !slices.Contains(workflows.SignableOperations, op) {
			errs = append(errs, fmt.Errorf("signedOperations: %q is not one of %s", op, strings.Join(workflows.SignableOperations, ", ")))
		}
	}
	return errors.Join(errs...)
}

// readAllowedSigners reads ssh-keygen's allowed_signers format: one
// "principals [options] keytype key [comment]" a line, principals
// comma-separated; each principal becomes an approver with that key.
func readAllowedSigners(path string) ([]workflows.Approver, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the approval policy's allowedSigners %s: %w", path, err)
	}
	var out []workflows.Approver
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		principals, key, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("%s line %d: want principals, then the key", path, n)
		}
		for _, name := range strings.Split(principals, ",") {
			out = append(out, workflows.Approver{Name: strings.TrimSpace(name), PublicKey: strings.TrimSpace(key)})
		}
	}
	return out, scanner.Err()
}

// Activities read the policy for the workflows.
type Activities struct {
	// Path is the policy file; empty: no policy.
	Path string
}

// LoadApprovalPolicyName is the activity's name.
const LoadApprovalPolicyName = "LoadApprovalPolicy"

// LoadApprovalPolicy returns the worker's policy as it is now (the zero
// policy when the worker has none). A policy that no longer reads fails
// the activity, which is retried: the workflow keeps the policy it had.
func (a *Activities) LoadApprovalPolicy(_ context.Context, _ struct{}) (workflows.ApprovalPolicy, error) {
	if a.Path == "" {
		return workflows.ApprovalPolicy{}, nil
	}
	return Load(a.Path)
}
