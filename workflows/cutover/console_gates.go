package cutover

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/internal/samlmeta"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/gate"
)

// The identity source change and automatic provisioning have no public AWS
// API: a person does them in the IAM Identity Center console. The cutover
// waits for them at two gates and tells the person, click by click, what to
// do and what to send back.

// Limits on what a person sends at the console gates.
const (
	maxSPMetadataLength = 256 << 10
)

// collectSPMetadata waits at gate aws-sp-metadata for the service provider
// metadata of the instance. The decision it returns is submit-sp-metadata
// (with the metadata parsed into resources) or reject.
func (c *cutover) collectSPMetadata(ctx workflow.Context) (*gate.Pending, error) {
	req := c.status.Request
	g := &gate.Gate{
		Name:               workflows.GateAWSSPMetadata,
		Phase:              workflows.PhaseAwaitingSPMeta,
		Instructions:       spMetadataInstructions(c.status.WorkflowID, c.status.Resources),
		Operations:         []string{workflows.OpSubmitSPMetadata, workflows.OpReject, workflows.OpRollback},
		RollsBackOnTimeout: true,
		Check: func(op string, d workflows.GateDecision) error {
			if op != workflows.OpSubmitSPMetadata {
				return nil
			}
			_, err := parseSPMetadata(d.SPMetadataXML, req.Region)
			return err
		},
	}
	decision, err := c.waitAtGate(ctx, g)
	if err != nil || decision.Action != workflows.OpSubmitSPMetadata {
		return decision, err
	}
	// The gate's check parsed the same XML; parsing is deterministic.
	accepted, err := parseSPMetadata(decision.Input.SPMetadataXML, req.Region)
	if err != nil {
		return nil, err
	}
	c.resources().ServiceProvider = &accepted
	// From here the person is changing the identity source: undoing that
	// is theirs, and the assignments it may drop are restored afterwards.
	c.compensate(ctx, compensation{
		undoes: "account assignments the identity source changes may drop (restored from the snapshot)",
		undo: undoWith(c, identityCenter.VerifyAssignments, identitycenter.VerifyAssignmentsInput{
			InstanceARN: c.status.Preflight.InstanceARN, Snapshot: c.status.Preflight.AWSInventory, Restore: true,
		}),
	})
	c.compensate(ctx, compensation{undoes: "the identity source change in IAM Identity Center", gate: c.revertIdentitySourceGate()})
	// The metadata was all this decision carried: it is carried out.
	decision.CarriedOut(nil)
	return decision, nil
}

// parseSPMetadata checks the metadata a person sent.
func parseSPMetadata(xml, region string) (samlmeta.SP, error) {
	switch {
	case strings.TrimSpace(xml) == "":
		return samlmeta.SP{}, errors.New(`"spMetadataXml" is required: send the service provider metadata file the console gave, unchanged`)
	case len(xml) > maxSPMetadataLength:
		return samlmeta.SP{}, fmt.Errorf(`"spMetadataXml" is larger than %d KiB; that is not the metadata file the console gives`, maxSPMetadataLength>>10)
	}
	return samlmeta.ParseSPMetadata([]byte(xml), region)
}

func spMetadataInstructions(workflowID string, res *workflows.Resources) string {
	var b strings.Builder
	if res != nil && res.BreakGlass != nil {
		fmt.Fprintf(&b, "The break-glass IAM user %s exists; its console password is in Secrets Manager (%s). "+
			"It opens the console if signing in through Entra does not work later.\n\n", res.BreakGlass.UserName, res.BreakGlass.Password.ARN)
		if bg := res.BreakGlass; bg.InDelegatedAdministrator() {
			fmt.Fprintf(&b, "It is in account %s, the delegated administrator account the worker administers Identity Center from; the instance belongs to the management account %s. "+
				"Check that it can sign in to the console of %s and open IAM Identity Center there before you change the identity source.\n\n", bg.Account, bg.InstanceOwnerAccount, bg.Account)
		}
	}
	b.WriteString("In the AWS console, in the Identity Center instance's home Region:\n\n" +
		"1. IAM Identity Center > Settings > Identity source > Actions > Change identity source.\n" +
		"2. Choose External identity provider, then Next.\n" +
		"3. Under Service provider metadata, choose Download metadata file (sp.xml).\n" +
		"4. Leave the page open: the next gate gives the Entra metadata to upload there.\n\n")
	fmt.Fprintf(&b, "Then send the file:\n\n    %s\n\n",
		gate.StarterCommand("submit-sp-metadata", workflowID, "--file", "sp.xml", "--by", "NAME"))
	fmt.Fprintf(&b, "With the Temporal CLI:\n\n    temporal workflow signal --workflow-id %s --name %s --input "+
		`"$(jq -n --rawfile x sp.xml '{gate:"%s",by:"NAME",spMetadataXml:$x}')"`+"\n\n",
		workflowID, workflows.OpSubmitSPMetadata, workflows.GateAWSSPMetadata)
	fmt.Fprintf(&b, "To stop the cutover here:\n\n    %s\n",
		gate.StarterCommand(workflows.OpReject, workflowID, "--gate", workflows.GateAWSSPMetadata, "--by", "NAME", "--reason", `"WHY"`))
	return b.String()
}

// revertIdentitySourceGate is the rollback's console step in AWS.
func (c *cutover) revertIdentitySourceGate() *gate.Gate {
	id := c.status.WorkflowID
	return &gate.Gate{
		Name:  workflows.GateRevertIdentitySource,
		Phase: workflows.PhaseRollingBack,
		Instructions: "Change the identity source back to the Identity Center directory, in the AWS console in the instance's home Region " +
			"(sign in with the break-glass IAM user if single sign-on does not work):\n\n" +
			"1. IAM Identity Center > Settings > Identity source > Actions > Change identity source.\n" +
			"2. Choose Identity Center directory, then Next; read the warnings, type ACCEPT and choose Change identity source.\n" +
			"   If the change was never finished, choose Cancel on the pending change instead.\n\n" +
			"Users, groups and their account assignments stay; the rollback checks the assignments against the snapshot next. When done:\n\n    " +
			gate.StarterCommand(workflows.OpApprove, id, "--gate", workflows.GateRevertIdentitySource, "--by", "NAME") + "\n",
		Operations: []string{workflows.OpApprove},
	}
}

// deleteSCIMTokensGate is the rollback's console step for the SCIM tokens.
func (c *cutover) deleteSCIMTokensGate() *gate.Gate {
	id := c.status.WorkflowID
	return &gate.Gate{
		Name:  workflows.GateDeleteSCIMTokens,
		Phase: workflows.PhaseRollingBack,
		Instructions: "Disable automatic provisioning and delete the SCIM access tokens the cutover used, in the AWS console:\n\n" +
			"1. IAM Identity Center > Settings > Identity source > Automatic provisioning.\n" +
			"2. Under Access tokens, delete every token created for this cutover (Actions > Delete), then choose Disable.\n\n" +
			"Entra's provisioning job is already stopped. When done:\n\n    " +
			gate.StarterCommand(workflows.OpApprove, id, "--gate", workflows.GateDeleteSCIMTokens, "--by", "NAME") + "\n",
		Operations: []string{workflows.OpApprove},
	}
}
