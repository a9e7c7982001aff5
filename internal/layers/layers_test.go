// Package layers checks the direction of the project's imports with `go
// list`, so that a wrong import fails a test instead of a review.
package layers

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/platformguide/ssocutover/"

// goList runs `go list` from the repository root with args and returns
// the module's packages it printed, without the module prefix.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go list %s:\n%s", strings.Join(args, " "), out)
	var pkgs []string
	for _, line := range strings.Fields(string(out)) {
		if rest, ok := strings.CutPrefix(line, module); ok {
			pkgs = append(pkgs, rest)
		}
	}
	require.NotEmpty(t, pkgs, "go list %s listed none of the module's packages", strings.Join(args, " "))
	return pkgs
}

// The product's binaries never link the simulator: a sandbox that a
// production worker could be pointed at by mistake, or whose code ships
// in the image, is a risk nobody needs.
func TestProductBinariesLinkNoSimulator(t *testing.T) {
	deps := goList(t, "-deps", "./worker", "./starter")
	require.Contains(t, deps, "workflows", "the listing covers the product's own packages")
	for _, p := range deps {
		require.False(t, p == "sandbox" || strings.HasPrefix(p, "sandbox/"),
			"bin/worker or bin/starter links the simulator package %s; move what they need out of sandbox/", p)
	}
}

// internal/ is the lowest layer: what the workflows, activities, worker
// and starter share. It imports none of them, so that nothing below depends
// on what is built on top of it. Its tests may use the sandbox as their
// fixture (the simulated clouds), but nothing else above internal/.
func TestInternalImportsNoUpperLayer(t *testing.T) {
	product := []string{"workflows", "activities", "worker", "starter"}
	imports := map[string][]string{
		"{{join .Imports \" \"}}":                                  append(product, "sandbox"),
		"{{join .TestImports \" \"}} {{join .XTestImports \" \"}}": product,
	}
	for format, forbidden := range imports {
		cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} "+format, "./internal/...")
		cmd.Dir = "../.."
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		checked := 0
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			fields := strings.Fields(line)
			pkg := strings.TrimPrefix(fields[0], module)
			if pkg == "internal/e2e" {
				continue // the end-to-end tests drive the whole product by design
			}
			checked++
			for _, imp := range fields[1:] {
				rest, ok := strings.CutPrefix(imp, module)
				if !ok {
					continue
				}
				for _, u := range forbidden {
					require.False(t, rest == u || strings.HasPrefix(rest, u+"/"),
						"%s imports %s: internal/ is the lowest layer; move the shared part down into internal/ or the importing code up", pkg, rest)
				}
			}
		}
		require.Greater(t, checked, 10, "the listing covers internal/")
	}
}

// The workflows' contract (package workflows: requests, statuses, results)
// is what clients build on, so it depends on nothing above internal/: the
// starter reads a status without linking an activity or the Graph SDK.
func TestTheWorkflowsContractImportsOnlyInternal(t *testing.T) {
	for _, p := range goList(t, "-deps", "./workflows") {
		require.True(t, p == "workflows" || strings.HasPrefix(p, "internal/"),
			"package workflows depends on %s: the contract may only use internal/ packages (a model the activities share belongs in internal/model)", p)
	}
	for _, p := range goList(t, "-deps", "./starter") {
		require.False(t, strings.HasPrefix(p, "activities/entra") || strings.HasPrefix(p, "activities/identitycenter"),
			"bin/starter links %s, and with it an SDK it never calls", p)
	}
}
