package world

import (
	_ "embed"
	"fmt"
	"slices"
)

// sampleJSON is the sample organisation: corp.example, 15 AWS users in six
// groups across prod, staging and shared-services, and an Entra tenant that
// mirrors it with a few problems for the preflight to find: aws-billing is
// missing in Entra, chen.wei.admin shares Chen Wei's mail, gus.tanaka has no
// surname, emil.lund is in aws-developers only through the nested group
// platform-contractors, aws-security-audit has no owner, oscar.berg left
// (absent from Entra) and dana.okafor holds a direct user assignment.
//
//go:embed sample.json
var sampleJSON []byte

// Sample returns a fresh copy of the sample world, safe to change.
func Sample() *World {
	w, err := Parse(sampleJSON)
	if err != nil {
		panic(fmt.Sprintf("the embedded sample world is invalid: %v", err))
	}
	return w
}

// SampleJSON returns the sample world file's bytes, e.g. to write it out as
// a starting point for a world of one's own.
func SampleJSON() []byte {
	return slices.Clone(sampleJSON)
}
