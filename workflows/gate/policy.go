package gate

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/policy"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/step"
)

// policyReader names the activity (see workflows/step).
var policyReader *policy.Activities

// workerPolicyChange versions the reading of the worker's policy
// (histories from before it never read one).
const workerPolicyChange = "worker-approval-policy"

// ReadPolicy reads the worker's approval policy; ok is false in a history
// from before policies, or when the worker cannot read its policy file (the
// workflow then keeps the policy it has, and the log says why).
func ReadPolicy(ctx workflow.Context) (workflows.ApprovalPolicy, bool) {
	if workflow.GetVersion(ctx, workerPolicyChange, workflow.DefaultVersion, 1) != 1 {
		return workflows.ApprovalPolicy{}, false
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                "Approval policy",
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 2 * time.Minute,
		RetryPolicy:            step.RetryPolicy,
	})
	p, err := step.Run(ctx, policyReader.LoadApprovalPolicy, struct{}{})
	if err != nil {
		workflow.GetLogger(ctx).Warn("The worker's approval policy could not be read; the policy in force stays", "error", err)
		return workflows.ApprovalPolicy{}, false
	}
	return p, true
}

// followPolicy reads the worker's policy again as a gate opens and applies
// it if it is at least as strict as the one in force; a looser one is
// ignored, and the log says so.
func (k *Keeper) followPolicy(ctx workflow.Context) {
	p, ok := ReadPolicy(ctx)
	if !ok {
		return
	}
	cur := k.Signing.Policy()
	switch {
	case p.Digest == cur.Digest:
		return
	case !Stricter(cur, p):
		workflow.GetLogger(ctx).Warn("The worker's approval policy changed to one that is not stricter; the one in force stays",
			"inForce", cur.Digest, "ignored", p.Digest)
		return
	case k.Signing == nil && k.SigningFor == nil:
		return
	case k.Signing == nil:
		k.Signing = k.SigningFor(p)
	default:
		k.Signing.UsePolicy(p)
	}
	k.State.ApprovalPolicy = &p
	workflow.GetLogger(ctx).Info("A stricter approval policy of the worker is in force", "digest", p.Digest)
}
