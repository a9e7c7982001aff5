//go:build uitest

package main

// The Temporal UI as a person sees it, in headless Chromium: `make test-ui`
// runs the demo to each gate in turn and checks, on the workflow's page,
// that the input is decrypted (the codec server and its CORS work), that
// the Current Details name the open gate, and that every command shown
// there is in a code element and parses as the command it names. A
// screenshot of each gate lands in $SSOCUTOVER_UI_ARTIFACTS.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/activitytest"
	"github.com/platformguide/ssocutover/sandbox/devserver"
	"github.com/platformguide/ssocutover/sandbox/world"
	"github.com/platformguide/ssocutover/starter/cli"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/statusview"
)

// EnvUIArtifacts names the directory that receives a screenshot per gate.
const EnvUIArtifacts = "SSOCUTOVER_UI_ARTIFACTS"

func TestTemporalUIAtEachGate(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	require.NoError(t, err, "make test-ui installs Debian's chromium when it is missing")
	temporalCLI, err := devserver.FindTemporalCLI("", os.Getenv)
	require.NoError(t, err)
	answers := readmeGateAnswers(t)
	artifacts := os.Getenv(EnvUIArtifacts)
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(artifacts, 0o755))
	checker := &commandChecker{temporalCLI: temporalCLI, help: map[string]string{}}

	for _, gate := range demoGates {
		t.Run(gate, func(t *testing.T) {
			page := demoAtGate(t, gate)
			ui := openWorkflowPage(t, chromium, page.link)

			// The input is shown decrypted: the UI reached the codec server.
			ui.waitFor(t, "the decrypted input", `document.body.innerText`, func(text string) bool {
				return strings.Contains(text, `"identityStoreId": "`+page.storeID+`"`) && strings.Contains(text, `"entraTenantId"`)
			})

			// The Current Details (Markdown the UI renders in frames of its
			// own) name the open gate.
			ui.click(t, `[data-testid="user-metadata-tab"]`)
			ui.waitFor(t, "Current Details naming gate "+gate, detailsTextJS, func(text string) bool {
				return strings.Contains(text, "Waiting for you at gate "+gate)
			})
			ui.screenshot(t, filepath.Join(artifacts, gate+".png"))

			// No command outside a code element: the UI's typography would
			// turn its "--" into a dash, and it would copy wrong.
			plain := ui.strings(t, detailsPlainTextJS)
			for _, text := range plain {
				require.NotRegexp(t, commandInProse, text, "a command in the Current Details is not in a code span or block")
			}

			// A command in a numbered step stays in the step (the list is
			// not cut in two), and a command block does not run off the
			// panel unless one of its words cannot be broken (a JSON input).
			blocks, err := chromedp.Run(ui.ctx, chromedp.Evaluate[[]codeBlock](detailsBlocksJS))
			require.NoError(t, err)
			for _, b := range blocks {
				require.False(t, b.SplitsList, "the block %q ends the numbered list it belongs to", b.Text)
				if b.Overflows {
					require.True(t, hasUnbreakableWord(b.Text, b.Columns), "the block %q runs off the panel (%d columns)", b.Text, b.Columns)
				}
			}

			// Every command in a code element parses as that command.
			var starterOps []string
			for _, code := range ui.strings(t, detailsCodeJS) {
				code = strings.TrimSpace(code)
				program, _, _ := strings.Cut(code, " ")
				if !slices.Contains([]string{"starter", "temporal", "aws"}, program) {
					continue
				}
				args, err := checker.check(code)
				require.NoError(t, err, "the command %q in the Current Details", code)
				if program == "starter" {
					starterOps = append(starterOps, args[1])
				}
			}

			// The commands are the open gate's operations (and the
			// starter's read-only helpers), and the README's gate table
			// names the one that answers.
			for _, op := range starterOps {
				require.True(t, slices.Contains(page.operations, op) || slices.Contains([]string{"status", "report", "metadata"}, op),
					"starter %s is shown at gate %s, which takes %v", op, gate, page.operations)
			}
			require.Contains(t, starterOps, answers[gate], "the README's gate table answers gate %s with %s", gate, answers[gate])
		})
	}
}

// demoPage is the demo waiting at a gate.
type demoPage struct {
	link       string // the workflow's page in the Temporal UI
	storeID    string
	operations []string // what the open gate takes
}

// demoAtGate runs the demo (dev server, sandbox, worker) until the cutover
// waits at gate, and keeps it up until the test ends.
func demoAtGate(t *testing.T, gate string) demoPage {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	port, uiPort, dataDir := freePort(t), freePort(t), t.TempDir()
	var stdout, progress activitytest.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, demoOptions{Port: port, UIPort: uiPort, DataDir: dataDir, Until: gate, RequestedBy: "tester", Progress: &progress}, &stdout)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for !strings.Contains(progress.String(), "Press Ctrl-C to stop") {
		select {
		case err := <-done:
			t.Fatalf("the demo stopped before gate %s: %v\n%s", gate, err, progress.String())
		case <-ctx.Done():
			t.Fatalf("the demo did not reach gate %s:\n%s", gate, progress.String())
		case <-time.After(200 * time.Millisecond):
		}
	}

	storeID := world.Sample().AWS.IdentityStoreID
	id := workflows.CutoverWorkflowID(storeID)
	var out bytes.Buffer
	root := cli.NewRootCommand(&out, io.Discard, func(string) string { return "" })
	root.SetArgs([]string{"status", "--workflow-id", id, "--json", "--address", "127.0.0.1:" + strconv.Itoa(port), "--data-dir", dataDir})
	require.NoError(t, root.ExecuteContext(ctx))
	var status statusview.Cutover
	require.NoError(t, json.Unmarshal(out.Bytes(), &status), out.String())
	require.NotNil(t, status.Gate)
	require.Equal(t, gate, status.Gate.Name)
	return demoPage{
		link:       cli.WorkflowLink("http://127.0.0.1:"+strconv.Itoa(uiPort), "", id),
		storeID:    storeID,
		operations: status.Gate.Operations,
	}
}

// JavaScript that reads the Current Details, which the UI renders from
// Markdown into frames (iframe title="output") served from its own origin.
const (
	detailsFrames = `Array.from(document.querySelectorAll('iframe[title="output"]')).map(f => f.contentDocument && f.contentDocument.body).filter(b => b)`
	detailsTextJS = detailsFrames + `.map(b => b.innerText).join("\n")`
	detailsCodeJS = detailsFrames + `.flatMap(b => Array.from(b.querySelectorAll("code")).map(c => c.textContent))`
	// detailsPlainTextJS is the text of the details outside code elements.
	detailsPlainTextJS = detailsFrames + `.flatMap(b => {
		const texts = [];
		const walker = b.ownerDocument.createTreeWalker(b, NodeFilter.SHOW_TEXT);
		for (let n = walker.nextNode(); n; n = walker.nextNode()) {
			if (!n.parentElement.closest("code, pre")) texts.push(n.textContent);
		}
		return texts;
	})`
)

// codeBlock is a block of code in the details, as laid out.
type codeBlock struct {
	Text       string `json:"text"`
	Overflows  bool   `json:"overflows"`  // wider than the panel shows
	Columns    int    `json:"columns"`    // characters the panel shows on a line
	SplitsList bool   `json:"splitsList"` // between two numbered lists
}

const detailsBlocksJS = detailsFrames + `.flatMap(b => Array.from(b.querySelectorAll("pre")).map(p => {
	const probe = p.ownerDocument.createElement("span");
	probe.textContent = "x".repeat(100);
	p.appendChild(probe);
	const charWidth = probe.getBoundingClientRect().width / 100;
	probe.remove();
	return {
		text: p.textContent,
		overflows: p.scrollWidth > p.clientWidth,
		columns: Math.floor(p.clientWidth / charWidth),
		splitsList: !!(p.previousElementSibling && p.previousElementSibling.tagName === "OL" && p.nextElementSibling && p.nextElementSibling.tagName === "OL"),
	};
}))`

// hasUnbreakableWord reports whether a line of text has a single-quoted
// word longer than columns: a command cannot wrap inside it.
func hasUnbreakableWord(text string, columns int) bool {
	for _, line := range strings.Split(text, "\n") {
		for i, quoted := range strings.Split(line, "'") {
			if i%2 == 1 && len(quoted)+2 > columns-4 {
				return true
			}
		}
	}
	return false
}

// commandInProse is a command written as plain text: a program, a
// subcommand, then a flag (with "--" or the dash typography makes of it).
var commandInProse = regexp.MustCompile(`\b(starter|temporal|aws) [a-z][a-z-]*( [^ \n]+)* ?(--|–|—)[a-z]`)

// browserPage is one Chromium tab.
type browserPage struct{ ctx context.Context }

func openWorkflowPage(t *testing.T, chromium, link string) browserPage {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.WindowSize(1400, 2200))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses its sandbox to root
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(link)))
	return browserPage{ctx: ctx}
}

// waitFor evaluates js (which gives a string) until ok accepts its value.
func (p browserPage) waitFor(t *testing.T, what, js string, ok func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for {
		text, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
		if err == nil && ok(text) {
			return
		}
		if err == nil {
			last = text
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page does not show %s; it shows:\n%s", what, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (p browserPage) click(t *testing.T, css string) {
	t.Helper()
	require.NoError(t, chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(css))))
}

func (p browserPage) strings(t *testing.T, js string) []string {
	t.Helper()
	out, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](js))
	require.NoError(t, err)
	return out
}

func (p browserPage) screenshot(t *testing.T, path string) {
	t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
}

// commandChecker parses a command as its program would: the starter's own
// command tree, and the help of the Temporal and AWS CLIs for their flags.
type commandChecker struct {
	temporalCLI string
	help        map[string]string // help text by command path
}

// check splits command as a POSIX shell would (line continuations
// included) and checks it; it returns the words.
func (c *commandChecker) check(command string) ([]string, error) {
	if strings.ContainsAny(command, "–—") {
		return nil, errors.New("it has a dash where a hyphen belongs")
	}
	args, err := shellCommandWords(command)
	if err != nil {
		return nil, fmt.Errorf("a shell cannot read it: %w", err)
	}
	switch args[0] {
	case "starter":
		return args, checkStarter(args[1:])
	case "temporal":
		return args, c.checkFlags(args, c.temporalCLI, "--help")
	default:
		return args, c.checkFlags(args, "aws", "help")
	}
}

var (
	longFlag  = regexp.MustCompile(`--[a-z0-9][a-z0-9-]*`)
	overprint = regexp.MustCompile(`.\x08`)
)

// checkFlags checks that the command path of args (the words before the
// first flag) is a command of program, and that each of its flags is in
// that command's help.
func (c *commandChecker) checkFlags(args []string, program, helpArg string) error {
	path := args[1:]
	if i := slices.IndexFunc(path, func(a string) bool { return strings.HasPrefix(a, "-") }); i >= 0 {
		path = path[:i]
	}
	key := program + " " + strings.Join(path, " ")
	help, ok := c.help[key]
	if !ok {
		out, err := exec.Command(program, append(slices.Clone(path), helpArg)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s has no command %q: %v: %s", program, strings.Join(path, " "), err, out)
		}
		help = overprint.ReplaceAllString(string(out), "")
		c.help[key] = help
	}
	known := map[string]bool{}
	for _, f := range longFlag.FindAllString(help, -1) {
		known[f] = true
	}
	for _, a := range args[1:] {
		flag, _, _ := strings.Cut(a, "=")
		if strings.HasPrefix(flag, "--") && !known[flag] {
			return fmt.Errorf("%s %s has no flag %s", program, strings.Join(path, " "), flag)
		}
	}
	return nil
}

// readmeGateAnswers reads, from the README, the operation that answers each
// gate: the preflight's table of operations (its first, approve) and the
// table of the gates after it.
func readmeGateAnswers(t *testing.T) map[string]string {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	require.NoError(t, err)
	answers := map[string]string{}
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| [^|]+ \\| `([a-z-]+)` \\|")
	for _, m := range row.FindAllStringSubmatch(string(data), -1) {
		answers[m[1]] = m[2]
	}
	require.Contains(t, string(data), "| `approve` | go on |", "the preflight's table of operations")
	answers[workflows.GatePreflight] = workflows.OpApprove
	for _, gate := range demoGates {
		require.Contains(t, answers, gate, "the README's gate table has a row for %s", gate)
	}
	return answers
}
