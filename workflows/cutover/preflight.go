package cutover

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/analysis"
	"github.com/platformguide/ssocutover/activities/checks"
	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/internal/readiness"
	"github.com/platformguide/ssocutover/internal/words"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
	"github.com/platformguide/ssocutover/workflows/step"
)

// runPreflight carries out runbook steps 1 to 3: the inventory of Identity
// Center, the lookup of its groups and users in Entra, and the analysis.
// The inventories and the report go to the store; history gets their
// references, counts and the summary, whose size does not grow with the
// organisation. Nothing is changed anywhere, so a failure ends the cutover
// with a message to fix the cause and start again.
func (c *cutover) runPreflight(ctx workflow.Context) error {
	req := c.status.Request
	run := 1
	if c.status.Preflight != nil {
		run = c.status.Preflight.Run + 1
	}

	// Before anything is read: can the worker's identity carry the whole
	// cutover out? What it lacks is a blocker a person fixes and rechecks;
	// the inventories wait until nothing is missing, so that a refused
	// read is not mistaken for an empty organisation.
	var notReady []readiness.Check
	if workflow.GetVersion(ctx, readinessFirstChange, workflow.DefaultVersion, 1) == 1 {
		c.setStep(ctx, workflows.PhasePreflight, fmt.Sprintf("preflight run %d: checking that the worker's AWS and Entra identity can carry the cutover out", run))
		report, err := step.Run(step.Options(ctx, "Readiness checks", 2*time.Minute, 0),
			checker.CheckReadiness, checks.CheckReadinessInput{Region: req.Region, IdentityStoreID: req.IdentityStoreID})
		if err != nil {
			return preflightFailed("checking that the worker can carry the cutover out", err)
		}
		for _, check := range report.Checks {
			if check.Status != readiness.OK {
				notReady = append(notReady, check)
			}
		}
		if !report.Ready() {
			return c.environmentNotReady(ctx, run, notReady)
		}
	}

	c.setStep(ctx, workflows.PhasePreflight, fmt.Sprintf("preflight run %d: inventory of Identity Center %s (groups, users, account assignments)",
		run, req.IdentityStoreID))
	aws, err := step.Run(inventoryOptions(ctx, "Inventory of Identity Center "+req.IdentityStoreID),
		identityCenter.InventoryAWS,
		identitycenter.InventoryAWSInput{IdentityStoreID: req.IdentityStoreID, InstanceARN: req.InstanceARN})
	if err != nil {
		return preflightFailed("taking the inventory of Identity Center "+req.IdentityStoreID, err)
	}

	c.setStep(ctx, workflows.PhasePreflight, fmt.Sprintf("preflight run %d: looking up %d groups and %d users in Entra tenant %s",
		run, aws.Groups, aws.Users, req.EntraTenantID))
	tenant, err := step.Run(inventoryOptions(ctx, "Lookup in Entra tenant "+req.EntraTenantID),
		entraID.InventoryEntra,
		entra.InventoryEntraInput{TenantID: req.EntraTenantID, AWSInventory: aws.Inventory, AppDisplayName: workflows.EnterpriseAppName(req.IdentityStoreID)})
	if err != nil {
		return preflightFailed("looking up the groups and users in Entra tenant "+req.EntraTenantID, err)
	}

	c.setStep(ctx, workflows.PhasePreflight, fmt.Sprintf("preflight run %d: analysing %d groups, %d users and %d account assignments",
		run, aws.Groups, aws.Users, aws.Assignments))
	analysed, err := step.Run(analysisOptions(ctx),
		analyzer.AnalyzePreflight,
		analysis.AnalyzePreflightInput{AWSInventory: aws.Inventory, EntraInventory: tenant.Inventory, Readiness: notReady})
	if err != nil {
		return preflightFailed("analysing the inventories", err)
	}

	c.status.Preflight = &workflows.PreflightResult{
		Run:               run,
		Summary:           analysed.Summary,
		Report:            analysed.Report,
		AWSInventory:      aws.Inventory,
		EntraInventory:    tenant.Inventory,
		APICalls:          mergeAPICalls(aws.APICalls, tenant.APICalls),
		AssignmentListing: aws.AssignmentListing,
		UserMappings:      tenant.UserMappings,
		InstanceARN:       aws.InstanceARN,
		FinishedAt:        workflow.Now(ctx),
	}
	c.publish(ctx)
	return nil
}

// readinessFirstChange versions the readiness checks that start each
// preflight run (histories from before them run without).
const readinessFirstChange = "readiness-checks-first"

// environmentNotReady ends a preflight run whose readiness checks found
// something missing: the report holds those findings alone, and the gate
// refuses to approve, override or not, until a recheck finds nothing
// missing (no inventory was taken to approve).
func (c *cutover) environmentNotReady(ctx workflow.Context, run int, notReady []readiness.Check) error {
	analysed, err := step.Run(analysisOptions(ctx), analyzer.AnalyzePreflight, analysis.AnalyzePreflightInput{Readiness: notReady})
	if err != nil {
		return preflightFailed("recording the readiness findings", err)
	}
	var missing []string
	for _, check := range notReady {
		if check.Status == readiness.Missing {
			missing = append(missing, check.Name)
		}
	}
	c.status.Preflight = &workflows.PreflightResult{
		Run: run, Summary: analysed.Summary, Report: analysed.Report,
		NotReady: missing, FinishedAt: workflow.Now(ctx),
	}
	c.publish(ctx)
	return nil
}

// reviewPreflight waits at gate preflight until a person approves or
// rejects. A recheck runs the preflight again and comes back to the gate
// with the new report; the decision it returns is approve or reject.
func (c *cutover) reviewPreflight(ctx workflow.Context) (*gate.Pending, error) {
	for {
		decision, err := c.waitAtGate(ctx, c.preflightGate())
		if err != nil {
			return nil, err
		}
		if decision.Action != workflows.OpRecheck {
			return decision, nil
		}
		err = c.runPreflight(ctx)
		// The recheck update answers once this coroutine blocks again:
		// at the reopened gate, or at the end of a failed workflow.
		decision.CarriedOut(err)
		if err != nil {
			return nil, err
		}
	}
}

// preflightGate is gate G1 for the latest preflight run: approve needs no
// blockers, or an override with a reason. An override without blockers is
// accepted and recorded as sent: it does no harm, and refusing it would only
// make the person send the approval again.
func (c *cutover) preflightGate() *gate.Gate {
	result := c.status.Preflight
	return &gate.Gate{
		Name:         workflows.GatePreflight,
		Phase:        workflows.PhaseAwaitingPreflight,
		Instructions: preflightInstructions(c.status.WorkflowID, *result),
		Operations:   []string{workflows.OpApprove, workflows.OpReject, workflows.OpRecheck},
		Check: func(op string, d workflows.GateDecision) error {
			if op == workflows.OpApprove && len(result.NotReady) > 0 {
				return fmt.Errorf("the worker cannot carry the cutover out (missing: %s), and no inventory was taken: "+
					"fix what is missing (starter report lists what to do), then recheck; this cannot be overridden",
					strings.Join(result.NotReady, ", "))
			}
			if op == workflows.OpApprove && result.Summary.Blockers > 0 && !d.Override {
				return fmt.Errorf("the preflight (run %d) found %s: fix them and recheck, "+
					`or approve with "override": true and a "reason" that says why going on is safe`,
					result.Run, words.Count(result.Summary.Blockers, "blocker"))
			}
			return nil
		},
	}
}

// preflightInstructions tell the person at gate preflight what was found
// and the exact commands for each choice.
func preflightInstructions(workflowID string, result workflows.PreflightResult) string {
	s := result.Summary
	gateArgs := []string{"--gate", workflows.GatePreflight, "--by", "NAME"}
	var b strings.Builder
	if len(result.NotReady) > 0 {
		fmt.Fprintf(&b, "The preflight (run %d) stopped before the inventories: the worker cannot carry the cutover out. Missing: %s.\n\n",
			result.Run, strings.Join(result.NotReady, ", "))
		fmt.Fprintf(&b, "Read what to do for each:\n\n    %s\n\n", gate.StarterCommand("report", workflowID))
		fmt.Fprintf(&b, "Fix them (an IAM policy, a Graph permission with admin consent, a licence, the app management policy), then run the preflight again:\n\n    %s\n\n",
			gate.StarterCommand(workflows.OpRecheck, workflowID, gateArgs...))
		fmt.Fprintf(&b, "To stop the cutover here (nothing has been changed):\n\n    %s\n",
			gate.StarterCommand(workflows.OpReject, workflowID, append(gateArgs, "--reason", `"WHY"`)...))
		return b.String()
	}
	fmt.Fprintf(&b, "The preflight (run %d) checked %s, %s and %s and found %s and %s.\n\n",
		result.Run, words.Count(s.Stats.Groups, "group"), words.Count(s.Stats.AWSUsers, "user"), words.Count(s.Stats.Assignments, "account assignment"),
		words.Count(s.Blockers, "blocker"), words.Count(s.Warnings, "warning"))
	fmt.Fprintf(&b, "Read every finding, with the groups and users it names:\n\n    %s\n\n", gate.StarterCommand("report", workflowID))
	if s.Blockers > 0 {
		fmt.Fprintf(&b, "Blockers stop the cutover. Fix them in Entra ID or Identity Center, then run the preflight again:\n\n    %s\n\n",
			gate.StarterCommand(workflows.OpRecheck, workflowID, gateArgs...))
		fmt.Fprintf(&b, "Or approve despite them, saying why that is safe (recorded with your name):\n\n    %s\n\n",
			gate.StarterCommand(workflows.OpApprove, workflowID, append(gateArgs, "--override", "--reason", `"WHY"`)...))
	} else {
		fmt.Fprintf(&b, "Nothing blocks the cutover. Once the warnings are understood, approve:\n\n    %s\n\n",
			gate.StarterCommand(workflows.OpApprove, workflowID, append(gateArgs, "--reason", `"WHY"`)...))
		fmt.Fprintf(&b, "After changing something in Entra ID or Identity Center, run the preflight again:\n\n    %s\n\n",
			gate.StarterCommand(workflows.OpRecheck, workflowID, gateArgs...))
	}
	fmt.Fprintf(&b, "To stop the cutover here (nothing has been changed yet):\n\n    %s\n\n",
		gate.StarterCommand(workflows.OpReject, workflowID, append(gateArgs, "--reason", `"WHY"`)...))
	example := workflows.GateDecision{Gate: workflows.GatePreflight, By: "NAME", Reason: "WHY", Override: s.Blockers > 0}
	fmt.Fprintf(&b, "With the Temporal CLI, send the same as a signal (approve, reject or recheck; "+
		"`temporal workflow update execute` takes the same input and answers at once):\n\n    %s\n",
		gate.SignalCommand(workflowID, workflows.OpApprove, example))
	return b.String()
}

// Preflight activities only read, so retrying them is always safe: they back
// off to at most five minutes apart.
var preflightRetryPolicy = &temporal.RetryPolicy{
	InitialInterval:    5 * time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    5 * time.Minute,
}

// inventoryOptions are for the inventory activities, which page through up
// to 100,000 users and 50,000 assignments under the APIs' throttling: about
// 52,500 AWS calls, 45 minutes at the default 20 calls a second. An attempt
// may take three hours; after eight hours of failures a person is better
// served by a clear error than by more waiting.
func inventoryOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summary,
		StartToCloseTimeout:    3 * time.Hour,
		ScheduleToCloseTimeout: 8 * time.Hour,
		// They heartbeat as they page, so a lost worker is noticed within
		// two minutes, not after half an hour.
		HeartbeatTimeout: 2 * time.Minute,
		RetryPolicy:      preflightRetryPolicy,
	})
}

// analysisOptions are for the analysis: one computation in memory, with no
// loop to heartbeat from, hence no heartbeat timeout.
func analysisOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                "Analysis of the inventories",
		StartToCloseTimeout:    30 * time.Minute,
		ScheduleToCloseTimeout: 2 * time.Hour,
		RetryPolicy:            preflightRetryPolicy,
	})
}

// preflightFailed turns an activity failure into the error that ends the
// cutover. Cancellation is passed on as it is.
func preflightFailed(doing string, err error) error {
	if temporal.IsCanceledError(err) {
		return err
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("the preflight failed while %s: %s. Nothing was changed in AWS or Entra: fix this and start the cutover again.",
			doing, step.ActivityFailure(err)),
		workflows.ErrPreflightFailed, nil)
}

// mergeAPICalls adds up the API calls of both inventories by operation,
// sorted by operation name.
func mergeAPICalls(lists ...[]apicalls.OperationCount) []apicalls.OperationCount {
	var all []apicalls.OperationCount
	for _, list := range lists {
		all = append(all, list...)
	}
	slices.SortStableFunc(all, func(a, b apicalls.OperationCount) int { return strings.Compare(a.Operation, b.Operation) })
	merged := []apicalls.OperationCount{}
	for _, oc := range all {
		if n := len(merged); n > 0 && merged[n-1].Operation == oc.Operation {
			merged[n-1].Calls += oc.Calls
			continue
		}
		merged = append(merged, oc)
	}
	return merged
}
