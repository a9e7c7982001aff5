package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"gopkg.in/yaml.v3"

	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/statusview"
)

func (c *cli) startCommand() *cobra.Command {
	var file string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "start -f REQUEST",
		Short: "Start a cutover from a request file (YAML or JSON)",
		Long: `Start a cutover of one Identity Center instance from a request file, YAML or
JSON, for example:

    identityStoreId: d-1234567890
    region: eu-west-1
    entraTenantId: 00000000-0000-0000-0000-000000000001
    requestedBy: alice@corp.example
    ticket: CHG-1234          # optional
    instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef   # optional

The workflow ID is cutover-<identityStoreId>: while a cutover of an instance
runs, a second start is refused. The equivalent 'temporal workflow start'
command is printed too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := readRequest(file)
			if err != nil {
				return err
			}
			if dryRun {
				fmt.Fprintf(c.stdout, "The request is valid. To start it with the Temporal CLI:\n\n    %s\n", c.temporalStartCommand(req))
				return nil
			}
			return c.start(cmd.Context(), req)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "request file, YAML or JSON (- for standard input)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the request and print the temporal command, without starting")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// start starts the cutover and says where to follow it.
func (c *cli) start(ctx context.Context, req workflows.CutoverRequest) error {
	tc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()

	id := workflows.CutoverWorkflowID(req.IdentityStoreID)
	run, err := tc.ExecuteWorkflow(ctx, CutoverStartOptions(id, enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL), workflows.CutoverWorkflowName, req)
	if err != nil {
		return c.startError(id, err)
	}
	fmt.Fprintf(c.stdout, "Started the cutover of Identity Center %s to Entra tenant %s.\n\n", req.IdentityStoreID, req.EntraTenantID)
	fmt.Fprintf(c.stdout, "  workflow ID  %s\n  run ID       %s\n", run.GetID(), run.GetRunID())
	if link := c.workflowLink(id); link != "" {
		fmt.Fprintf(c.stdout, "  Temporal UI  %s\n", link)
	}
	fmt.Fprintf(c.stdout, "\nFollow it (the preflight takes a while on a large organisation):\n\n    starter status --workflow-id %s\n", id)
	fmt.Fprintf(c.stdout, "\nThe same start with the Temporal CLI:\n\n    %s\n", c.temporalStartCommand(req))
	return nil
}

// CutoverStartOptions start a cutover on the one task queue. With conflict
// policy fail, a second start while one runs is refused; WorkflowExecution-
// ErrorWhenAlreadyStarted makes the SDK say so instead of quietly handing
// back the running one.
func CutoverStartOptions(id string, conflict enumspb.WorkflowIdConflictPolicy) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                temporalclient.TaskQueue,
		WorkflowIDConflictPolicy:                 conflict,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            "Cutover of IAM Identity Center to Entra ID",
	}
}

func (c *cli) startError(id string, err error) error {
	var running *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &running) {
		return fmt.Errorf("a cutover of this instance is already running as workflow %s (run %s); only one runs at a time.\n"+
			"See where it is with:\n\n    starter status --workflow-id %s\n\nand decide at its gate, or reject it before starting another", id, running.RunId, id)
	}
	return fmt.Errorf("start workflow %s: %w", id, err)
}

// temporalStartCommand is the `temporal workflow start` command that starts
// the same cutover, through the codec server (CODEC_URL, where 'starter
// codec-server' listens): the worker refuses a start sent as plain JSON.
// The API key is never printed: the temporal CLI reads TEMPORAL_API_KEY
// itself.
func (c *cli) temporalStartCommand(req workflows.CutoverRequest) string {
	input, err := json.Marshal(req)
	if err != nil { // a struct of strings always marshals
		panic(err)
	}
	args := []string{"temporal", "workflow", "start"}
	if c.temporal.Address != temporalclient.DefaultAddress {
		args = append(args, "--address", ShellQuote(c.temporal.Address))
	}
	if c.temporal.Namespace != temporalclient.DefaultNamespace {
		args = append(args, "--namespace", ShellQuote(c.temporal.Namespace))
	}
	if c.temporal.UsesTLS() {
		args = append(args, "--tls")
	}
	args = append(args,
		"--task-queue", temporalclient.TaskQueue,
		"--type", workflows.CutoverWorkflowName,
		"--workflow-id", workflows.CutoverWorkflowID(req.IdentityStoreID),
		"--id-conflict-policy", "Fail",
		"--codec-endpoint", "CODEC_URL",
		"--input", ShellQuote(string(input)))
	return strings.Join(args, " ")
}

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/@=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// readRequest reads and validates a request file; "-" is standard input.
func readRequest(path string) (workflows.CutoverRequest, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return workflows.CutoverRequest{}, fmt.Errorf("read the request file: %w", err)
	}
	req, err := parseRequest(path, data)
	if err != nil {
		return workflows.CutoverRequest{}, fmt.Errorf("request file %s: %w", path, err)
	}
	return req, nil
}

// parseRequest decodes a request, JSON or YAML by the file's extension or,
// without one, by its content, refusing unknown fields (a misspelt optional
// field would otherwise be silently dropped), then validates it, listing
// every problem at once.
func parseRequest(name string, data []byte) (workflows.CutoverRequest, error) {
	var req workflows.CutoverRequest
	if err := decodeRequestFile(name, data, &req); err != nil {
		return req, err
	}
	if err := req.Validate(); err != nil {
		return req, fmt.Errorf("the request is invalid:\n%s", statusview.IndentLines(err.Error(), "  - "))
	}
	return req, nil
}

// decodeRequestFile decodes a request file into v: JSON or YAML by the
// file's extension or, without one, by its content, refusing unknown fields.
func decodeRequestFile(name string, data []byte, v any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return errors.New("it is empty")
	}
	isJSON := trimmed[0] == '{'
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		isJSON = true
	case ".yaml", ".yml":
		isJSON = false
	}
	if isJSON {
		if err := decodeJSONStrict(trimmed, v); err != nil {
			return fmt.Errorf("not a valid JSON request: %w", err)
		}
		return nil
	}
	if err := decodeYAMLStrict(trimmed, v); err != nil {
		return fmt.Errorf("not a valid YAML request: %w", err)
	}
	return nil
}

func decodeJSONStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more than one JSON value: a request file holds one object")
	}
	return nil
}

func decodeYAMLStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document: a request file holds one")
	}
	return nil
}
