package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/starter/cli"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/statusview"
)

// demoPerson plays the person at each gate of a demo cutover: the console
// steps through the sandbox's console, the answers through the same
// updates `starter` sends.
type demoPerson struct {
	tc      client.Client
	id      string
	console *sandbox.ConsoleClient
	secrets secretstore.API
	// dir receives the files a person would download (sp.xml, idp.xml).
	dir string
	say func(string, ...any)
}

// answer does what the open gate asks.
func (p *demoPerson) answer(ctx context.Context, view statusview.Cutover) error {
	switch view.Gate.Name {
	case workflows.GatePreflight:
		return p.approvePreflight(ctx, view)
	case workflows.GateAWSSPMetadata:
		return p.switchIdentitySource(ctx)
	case workflows.GateSCIMCredentials:
		return p.enableProvisioning(ctx, view)
	case workflows.GateConfirmSignIn:
		return p.confirmSignIn(ctx, view)
	}
	return fmt.Errorf("the demo does not know gate %s", view.Gate.Name)
}

func (p *demoPerson) approvePreflight(ctx context.Context, view statusview.Cutover) error {
	d := workflows.GateDecision{Gate: workflows.GatePreflight, By: "demo", Reason: "demo: the findings were read"}
	if view.Preflight != nil && view.Preflight.Summary.Blockers > 0 {
		d.Override, d.Reason = true, "demo: the sample's blockers are there to be seen, not fixed"
	}
	p.say("  [person] approves the preflight%s", map[bool]string{true: " with an override (the sample has blockers)"}[d.Override])
	return p.send(ctx, workflows.OpApprove, d)
}

func (p *demoPerson) switchIdentitySource(ctx context.Context) error {
	p.say("  [person] IAM Identity Center console: Change identity source > External identity provider; downloads sp.xml")
	metadata, err := p.console.SwitchIdentitySourceToExternal(ctx)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(p.dir, "sp.xml"), metadata, 0o644); err != nil {
		return err
	}
	p.say("  [person] starter submit-sp-metadata --file sp.xml")
	return p.send(ctx, workflows.OpSubmitSPMetadata,
		workflows.GateDecision{Gate: workflows.GateAWSSPMetadata, By: "demo", SPMetadataXML: string(metadata)})
}

func (p *demoPerson) enableProvisioning(ctx context.Context, view statusview.Cutover) error {
	if view.Resources == nil || view.Resources.IdPMetadata == nil {
		return fmt.Errorf("gate %s is open without federation metadata", workflows.GateSCIMCredentials)
	}
	idp := []byte(view.Resources.IdPMetadata.MetadataXML)
	if err := os.WriteFile(filepath.Join(p.dir, "idp.xml"), idp, 0o644); err != nil {
		return err
	}
	p.say("  [person] starter metadata -o idp.xml; console: uploads idp.xml and finishes the identity source change")
	source, err := p.console.UploadIdPMetadata(ctx, idp)
	if err != nil {
		return err
	}
	p.say("  [person]   the identity source is now %s (identity store %s)", source.Source, source.IdentityStoreID)
	p.say("  [person] console: Automatic provisioning > Enable; copies the SCIM endpoint and the access token")
	creds, err := p.console.EnableAutomaticProvisioning(ctx)
	if err != nil {
		return err
	}
	ref, err := cli.StoreSCIMToken(ctx, p.secrets, view.Request, secretstore.NewValue(creds.Token))
	if err != nil {
		return err
	}
	p.say("  [person] starter submit-scim --endpoint %s (token stored as %s)", creds.SCIMEndpoint, ref)
	return p.send(ctx, workflows.OpSubmitSCIM, workflows.GateDecision{
		Gate: workflows.GateSCIMCredentials, By: "demo", SCIMEndpoint: creds.SCIMEndpoint, SCIMToken: &ref,
	})
}

func (p *demoPerson) confirmSignIn(ctx context.Context, view statusview.Cutover) error {
	d := workflows.GateDecision{Gate: workflows.GateConfirmSignIn, By: "demo"}
	if v := view.Resources.Verification; v == nil || !v.Complete() {
		d.Override, d.Reason = true, "demo: the sample's blockers leave something unverified"
	}
	p.say("  [person] signs in through the AWS access portal, then approves gate %s", workflows.GateConfirmSignIn)
	return p.send(ctx, workflows.OpApprove, d)
}

func (p *demoPerson) send(ctx context.Context, op string, d workflows.GateDecision) error {
	_, err := cli.SendDecision[workflows.CutoverStatus](ctx, p.tc, p.id, op, d)
	return err
}

// interactiveCommands are what a person runs at gate in --interactive mode.
func interactiveCommands(gate, id, flags, sandboxURL, secretsEnv string) []string {
	console := "bin/sandbox console --sandbox-url " + sandboxURL
	switch gate {
	case workflows.GatePreflight:
		return []string{
			"bin/starter report --workflow-id " + id + flags,
			"bin/starter approve --workflow-id " + id + " --gate preflight --override --reason 'demo'" + flags,
		}
	case workflows.GateAWSSPMetadata:
		return []string{
			console + " switch-identity-source -o sp.xml",
			"bin/starter submit-sp-metadata --workflow-id " + id + " --file sp.xml" + flags,
		}
	case workflows.GateSCIMCredentials:
		return []string{
			"bin/starter metadata --workflow-id " + id + " -o idp.xml" + flags,
			console + " upload-idp-metadata --file idp.xml",
			console + " enable-provisioning --token-file scim-token",
			secretsEnv + " bin/starter submit-scim --workflow-id " + id + " --endpoint ENDPOINT --token-file scim-token" + flags,
		}
	case workflows.GateConfirmSignIn:
		return []string{"bin/starter approve --workflow-id " + id + " --gate confirm-sign-in" + flags + "   # add --override --reason 'demo' if something is missing"}
	}
	return nil
}

// gateCommands are the starter commands that the open gate g takes, one
// per operation it lists, with the flags each needs (a reason where the
// operation asks for one, the files of the console gates), so none of them
// is refused for being the wrong operation at this gate.
func gateCommands(g workflows.GateStatus, id, flags string) []string {
	var commands []string
	if g.Name == workflows.GatePreflight {
		commands = append(commands, "bin/starter report --workflow-id "+id+flags)
	}
	for _, op := range g.Operations {
		args := " --gate " + g.Name
		switch op {
		case workflows.OpApprove:
			if g.Name == workflows.GatePreflight || g.Name == workflows.GateConfirmSignIn {
				args += " --override --reason 'demo'" // the sample has blockers; an override without them is taken too
			}
		case workflows.OpReject, workflows.OpRollback:
			args += " --reason 'demo over'"
		case workflows.OpSkip:
			args += " --reason 'done by hand'"
		case workflows.OpSubmitSPMetadata:
			args = " --file sp.xml"
		case workflows.OpSubmitSCIM:
			args = " --endpoint ENDPOINT --token-file scim-token"
		}
		commands = append(commands, "bin/starter "+op+" --workflow-id "+id+args+flags)
	}
	return commands
}

// sandboxAWSEnv is the environment that points the AWS SDK at the sandbox.
func sandboxAWSEnv(awsURL, region, accessKeyID, secretAccessKey string) string {
	return strings.Join([]string{
		"AWS_ENDPOINT_URL=" + awsURL, "AWS_REGION=" + region,
		"AWS_ACCESS_KEY_ID=" + accessKeyID, "AWS_SECRET_ACCESS_KEY=" + secretAccessKey,
	}, " ")
}
