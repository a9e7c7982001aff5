package workflows

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/internal/samlmeta"
)

// The identity source change and automatic provisioning have no public AWS
// API: a person does them in the IAM Identity Center console. The cutover
// waits for them at two gates and tells the person, click by click, what to
// do and what to send back.

// Limits on what a person sends at the console gates.
const (
	maxSPMetadataLength   = 256 << 10
	maxSCIMEndpointLength = 500
)

// collectSPMetadata waits at gate aws-sp-metadata for the service provider
// metadata of the instance. The decision it returns is submit-sp-metadata
// (with the metadata parsed into resources) or reject.
func (c *cutover) collectSPMetadata(ctx workflow.Context) (*pendingDecision, error) {
	req := c.status.Request
	g := &gate{
		name:               GateAWSSPMetadata,
		phase:              PhaseAwaitingSPMeta,
		instructions:       spMetadataInstructions(c.status.WorkflowID, c.status.Resources),
		operations:         []string{OpSubmitSPMetadata, OpReject, OpRollback},
		rollsBackOnTimeout: true,
		check: func(op string, d GateDecision) error {
			if op != OpSubmitSPMetadata {
				return nil
			}
			_, err := parseSPMetadata(d.SPMetadataXML, req.Region)
			return err
		},
	}
	decision, err := c.waitAtGate(ctx, g)
	if err != nil || decision.Action != OpSubmitSPMetadata {
		return decision, err
	}
	// The gate's check parsed the same XML; parsing is deterministic.
	accepted, err := parseSPMetadata(decision.input.SPMetadataXML, req.Region)
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
	decision.carriedOut(nil)
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

func spMetadataInstructions(workflowID string, res *Resources) string {
	var b strings.Builder
	if res != nil && res.BreakGlass != nil {
		fmt.Fprintf(&b, "The break-glass IAM user %s exists; its console password is in Secrets Manager (%s). "+
			"It opens the console if signing in through Entra does not work later.\n\n", res.BreakGlass.UserName, res.BreakGlass.Password.ARN)
	}
	b.WriteString("In the AWS console, in the Identity Center instance's home Region:\n\n" +
		"1. IAM Identity Center > Settings > Identity source > Actions > Change identity source.\n" +
		"2. Choose External identity provider, then Next.\n" +
		"3. Under Service provider metadata, choose Download metadata file (sp.xml).\n" +
		"4. Leave the page open: the next gate gives the Entra metadata to upload there.\n\n")
	fmt.Fprintf(&b, "Then send the file:\n\n    %s\n\n",
		starterCommand("submit-sp-metadata", workflowID, "--file", "sp.xml", "--by", "NAME"))
	fmt.Fprintf(&b, "With the Temporal CLI:\n\n    temporal workflow signal --workflow-id %s --name %s --input "+
		`"$(jq -n --rawfile x sp.xml '{gate:"%s",by:"NAME",spMetadataXml:$x}')"`+"\n\n",
		workflowID, OpSubmitSPMetadata, GateAWSSPMetadata)
	fmt.Fprintf(&b, "To stop the cutover here:\n\n    %s\n",
		starterCommand(OpReject, workflowID, "--gate", GateAWSSPMetadata, "--by", "NAME", "--reason", `"WHY"`))
	return b.String()
}

// scimEndpointPath is the path of an Identity Center SCIM endpoint:
// /<tenant ID>/scim/v2.
var scimEndpointPath = regexp.MustCompile(`^/[A-Za-z0-9-]{1,100}/scim/v2/?$`)

// checkSCIMEndpoint checks an endpoint a person copied from the console:
// https://scim.<region>.amazonaws.com/<tenant ID>/scim/v2, in the
// instance's Region. A sandbox cutover also takes a loopback endpoint.
func checkSCIMEndpoint(endpoint, region string, sandbox bool) error {
	const want = "want the SCIM endpoint as the console shows it, https://scim.%s.amazonaws.com/<tenant ID>/scim/v2"
	if strings.TrimSpace(endpoint) == "" {
		return fmt.Errorf(`"scimEndpoint" is required: `+want, region)
	}
	if len(endpoint) > maxSCIMEndpointLength {
		return fmt.Errorf(`"scimEndpoint" is longer than %d characters: `+want, maxSCIMEndpointLength, region)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || !scimEndpointPath.MatchString(u.Path) {
		return fmt.Errorf(`"scimEndpoint" %q: `+want, clip(endpoint, 100), region)
	}
	if sandbox && u.Scheme == "http" && isLoopback(u.Hostname()) {
		return nil
	}
	if u.Scheme != "https" {
		return fmt.Errorf(`"scimEndpoint" %q is not https: `+want, clip(endpoint, 100), region)
	}
	if host := "scim." + region + ".amazonaws.com"; u.Host != host {
		return fmt.Errorf(`"scimEndpoint" %q is not on %s, the SCIM host of the instance's Region: `+want, clip(endpoint, 100), host, region)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// revertIdentitySourceGate is the rollback's console step in AWS.
func (c *cutover) revertIdentitySourceGate() *gate {
	id := c.status.WorkflowID
	return &gate{
		name:  GateRevertIdentitySource,
		phase: PhaseRollingBack,
		instructions: "Change the identity source back to the Identity Center directory, in the AWS console in the instance's home Region " +
			"(sign in with the break-glass IAM user if single sign-on does not work):\n\n" +
			"1. IAM Identity Center > Settings > Identity source > Actions > Change identity source.\n" +
			"2. Choose Identity Center directory, then Next; read the warnings, type ACCEPT and choose Change identity source.\n" +
			"   If the change was never finished, choose Cancel on the pending change instead.\n\n" +
			"Users, groups and their account assignments stay; the rollback checks the assignments against the snapshot next. When done:\n\n    " +
			starterCommand(OpApprove, id, "--gate", GateRevertIdentitySource, "--by", "NAME") + "\n",
		operations: []string{OpApprove},
	}
}

// deleteSCIMTokensGate is the rollback's console step for the SCIM tokens.
func (c *cutover) deleteSCIMTokensGate() *gate {
	id := c.status.WorkflowID
	return &gate{
		name:  GateDeleteSCIMTokens,
		phase: PhaseRollingBack,
		instructions: "Disable automatic provisioning and delete the SCIM access tokens the cutover used, in the AWS console:\n\n" +
			"1. IAM Identity Center > Settings > Identity source > Automatic provisioning.\n" +
			"2. Under Access tokens, delete every token created for this cutover (Actions > Delete), then choose Disable.\n\n" +
			"Entra's provisioning job is already stopped. When done:\n\n    " +
			starterCommand(OpApprove, id, "--gate", GateDeleteSCIMTokens, "--by", "NAME") + "\n",
		operations: []string{OpApprove},
	}
}
