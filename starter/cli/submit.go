package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/secretref"
	"github.com/platformguide/ssocutover/internal/secretstore"
	"github.com/platformguide/ssocutover/workflows"
	"github.com/platformguide/ssocutover/workflows/statusview"
)

// The commands of the two console gates: the person hands the workflow what
// the IAM Identity Center console gave them, and takes Entra's metadata back.

func (c *cli) submitSPMetadataCommand() *cobra.Command {
	var t target
	var file, by string
	cmd := &cobra.Command{
		Use:   "submit-sp-metadata (--workflow-id ID | --identity-store d-...) --file sp.xml [--by NAME]",
		Short: "Send the AWS service provider metadata file at gate " + workflows.GateAWSSPMetadata,
		Long: `Send the service provider metadata file that the IAM Identity Center console
gave when you chose Change identity source > External identity provider.

The workflow checks it at once (an AWS SAML service provider of the cutover's
Region) and this command prints why it was refused, if it was.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("read the metadata file: %w", err)
			}
			return c.submit(cmd.Context(), t, workflows.OpSubmitSPMetadata,
				workflows.GateDecision{Gate: workflows.GateAWSSPMetadata, By: by, SPMetadataXML: string(data)})
		},
	}
	t.register(cmd.Flags())
	cmd.Flags().StringVar(&file, "file", "", "the metadata file the console gave (sp.xml)")
	cmd.Flags().StringVar(&by, "by", c.getenv("USER"), "who sends it (default $USER)")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func (c *cli) submitSCIMCommand() *cobra.Command {
	var t target
	var endpoint, tokenFile, by string
	cmd := &cobra.Command{
		Use:   "submit-scim (--workflow-id ID | --identity-store d-...) [--endpoint URL] --token-file FILE [--by NAME]",
		Short: "Store the SCIM token in Secrets Manager and send its reference at gate " + workflows.GateSCIMCredentials + " (or a rotation's " + workflows.GateNewSCIMToken + ")",
		Long: `Store the SCIM access token (read from --token-file) in AWS Secrets Manager,
as secret ssocutover/<identity store ID>/scim-token, and send the workflow the
endpoint and the secret's ARN and version, never the token.

The workflow checks the endpoint and token against the SCIM endpoint and has
Entra's provisioning test them too; this command waits for that and prints
why they were refused, if they were. Delete the token file afterwards.

At gate new-scim-token of a SCIM token rotation run (--workflow-id
scim-token-rotation-...), the token is stored as a pending version (stage
AWSPENDING) of the rotation's token secret, which becomes current only once
Entra's provisioning job works with it; --endpoint is not needed there.

AWS credentials and Region come from the usual AWS settings (AWS_PROFILE,
AWS_REGION, AWS_ENDPOINT_URL ...); the Region defaults to the cutover's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.submitSCIM(cmd.Context(), t, endpoint, tokenFile, by)
		},
	}
	t.register(cmd.Flags())
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "the SCIM endpoint the console shows (https://scim.<region>.amazonaws.com/.../scim/v2)")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "a file holding the access token the console showed (keep it readable by you only)")
	cmd.Flags().StringVar(&by, "by", c.getenv("USER"), "who sends it (default $USER)")
	_ = cmd.MarkFlagRequired("token-file")
	return cmd
}

func (c *cli) submitSCIM(ctx context.Context, t target, endpoint, tokenFile, by string) error {
	id, err := t.resolve()
	if err != nil {
		return err
	}
	token, err := readToken(tokenFile)
	if err != nil {
		return err
	}
	if isRotation(id) {
		return c.submitRotationToken(ctx, id, endpoint, token, by)
	}
	if endpoint == "" {
		return errors.New("--endpoint is required: the SCIM endpoint the console shows")
	}
	tc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	view, err := FetchStatus(ctx, tc, id)
	if err != nil {
		return err
	}
	if view.Gate == nil || view.Gate.Name != workflows.GateSCIMCredentials {
		return fmt.Errorf("%s is not waiting at gate %s (%s): nothing was stored", id, workflows.GateSCIMCredentials, view.Step)
	}
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: view.Request.Region})
	if err != nil {
		return err
	}
	ref, err := StoreSCIMToken(ctx, secretsmanager.NewFromConfig(cfg), view.Request, token)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Stored the SCIM token in Secrets Manager: %s\n", ref)
	status, err := SendDecision[workflows.CutoverStatus](ctx, tc, id, workflows.OpSubmitSCIM, workflows.GateDecision{
		Gate: workflows.GateSCIMCredentials, By: by, SCIMEndpoint: endpoint, SCIMToken: &ref,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s at gate %s by %s: the endpoint and Entra accepted the token.\n\n", workflows.OpSubmitSCIM, workflows.GateSCIMCredentials, by)
	statusview.WriteCutover(c.stdout, statusview.Cutover{CutoverStatus: status}, c.workflowLink(id), time.Now())
	return nil
}

// newRequestToken makes each submission a new secret version: a fresh
// request token, unrelated to the token's value.
func newRequestToken() (string, error) {
	var requestToken [16]byte
	if _, err := rand.Read(requestToken[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(requestToken[:]), nil
}

// readToken reads a token file; a token is one line of printable text.
func readToken(file string) (secretstore.Value, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return secretstore.Value{}, fmt.Errorf("read the token file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	switch {
	case token == "":
		return secretstore.Value{}, fmt.Errorf("the token file %s is empty: paste the access token the console showed into it", file)
	case strings.ContainsAny(token, " \t\r\n"):
		return secretstore.Value{}, fmt.Errorf("the token file %s holds more than one line or word: keep only the access token in it", file)
	}
	return secretstore.NewValue(token), nil
}

// StoreSCIMToken keeps token as a new version of the cutover's token secret.
func StoreSCIMToken(ctx context.Context, secrets secretstore.API, req workflows.CutoverRequest, token secretstore.Value) (secretref.Ref, error) {
	requestToken, err := newRequestToken()
	if err != nil {
		return secretref.Ref{}, err
	}
	ref, err := secretstore.Put(ctx, secrets, workflows.SCIMTokenSecretName(req.IdentityStoreID), token,
		requestToken, map[string]string{"ssocutover:workflow-id": workflows.CutoverWorkflowID(req.IdentityStoreID)})
	if err != nil {
		return secretref.Ref{}, fmt.Errorf("store the SCIM token in Secrets Manager (nothing was sent to the workflow): %w", err)
	}
	return ref, nil
}

// submit sends a gate operation as an update and prints the answer.
func (c *cli) submit(ctx context.Context, t target, op string, input workflows.GateDecision) error {
	return c.withCutover(ctx, t, func(tc client.Client, id string) error {
		return c.sendAndShow(ctx, tc, id, op, input)
	})
}

func (c *cli) metadataCommand() *cobra.Command {
	var t target
	var out string
	cmd := &cobra.Command{
		Use:   "metadata (--workflow-id ID | --identity-store d-...) -o idp.xml",
		Short: "Write Entra's federation metadata (to upload to IAM Identity Center) to a file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withCutover(cmd.Context(), t, func(tc client.Client, id string) error {
				return c.writeMetadata(cmd.Context(), tc, id, out)
			})
		},
	}
	t.register(cmd.Flags())
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (idp.xml)")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

// writeMetadata writes the federation metadata of cutover id to out.
func (c *cli) writeMetadata(ctx context.Context, tc client.Client, id, out string) error {
	view, err := FetchStatus(ctx, tc, id)
	if err != nil {
		return err
	}
	if view.QueryError != "" {
		return errors.New(view.QueryError)
	}
	if view.Resources == nil || view.Resources.IdPMetadata == nil {
		return fmt.Errorf("%s has no federation metadata yet (%s): it is fetched after gate %s", id, view.Step, workflows.GateAWSSPMetadata)
	}
	if err := os.WriteFile(out, []byte(view.Resources.IdPMetadata.MetadataXML), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Wrote the federation metadata of %s (signing certificate %s) to %s\n",
		view.Resources.IdPMetadata.EntityID, view.Resources.IdPMetadata.CertificateThumbprint, out)
	return nil
}
