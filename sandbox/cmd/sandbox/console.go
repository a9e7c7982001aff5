package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/sandboxworker"
)

// The IAM Identity Center console steps have no public API; against the
// sandbox they are these commands, which the demo prints for a person to
// run (demo --interactive) and the end-to-end tests use.
func consoleCommand(stdout io.Writer, getenv func(string) string) *cobra.Command {
	var sandboxURL string
	cmd := &cobra.Command{
		Use:   "console",
		Short: "The sandbox's IAM Identity Center console steps (identity source, provisioning, SCIM tokens)",
		Long: `The console steps of a cutover that no public AWS API offers, played against
the sandbox (bin/demo and bin/sandbox serve print its URL). Against a real AWS account, do them
in the IAM Identity Center console as the gates' instructions say.`,
	}
	cmd.PersistentFlags().StringVar(&sandboxURL, "sandbox-url", getenv(sandboxworker.EnvSandboxURL), "the sandbox's AWS URL, as bin/demo and bin/sandbox serve print it (env "+sandboxworker.EnvSandboxURL+")")
	client := func() (*sandbox.ConsoleClient, error) {
		if sandboxURL == "" {
			return nil, fmt.Errorf("say where the sandbox is: --sandbox-url or %s (bin/demo and bin/sandbox serve print it)", sandboxworker.EnvSandboxURL)
		}
		return sandbox.NewConsoleClient(sandboxURL, nil), nil
	}

	var spOut string
	switchCmd := &cobra.Command{
		Use:   "switch-identity-source -o sp.xml",
		Short: "Change the identity source to an external identity provider and download the service provider metadata",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			console, err := client()
			if err != nil {
				return err
			}
			metadata, err := console.SwitchIdentitySourceToExternal(cmd.Context())
			if err != nil {
				return err
			}
			if err := os.WriteFile(spOut, metadata, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "The identity source change is pending until the IdP metadata is uploaded. Service provider metadata written to %s\n", spOut)
			return nil
		},
	}
	switchCmd.Flags().StringVarP(&spOut, "output", "o", "sp.xml", "where to write the service provider metadata")

	var idpFile string
	uploadCmd := &cobra.Command{
		Use:   "upload-idp-metadata --file idp.xml",
		Short: "Upload the identity provider metadata and finish the identity source change",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			console, err := client()
			if err != nil {
				return err
			}
			metadata, err := os.ReadFile(idpFile)
			if err != nil {
				return err
			}
			status, err := console.UploadIdPMetadata(cmd.Context(), metadata)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "The identity source is now %s (identity store %s, identity provider %s)\n", status.Source, status.IdentityStoreID, status.IdPEntityID)
			return nil
		},
	}
	uploadCmd.Flags().StringVar(&idpFile, "file", "idp.xml", "the identity provider metadata (starter metadata writes it)")

	var tokenFile string
	writeCredentials := func(creds sandbox.SCIMCredentials) error {
		if err := os.WriteFile(tokenFile, []byte(creds.Token+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "SCIM endpoint: %s\nAccess token %s (expires %s) written to %s, readable by you only\n",
			creds.SCIMEndpoint, creds.TokenID, creds.ExpiresAt.Format("2006-01-02"), tokenFile)
		return nil
	}
	enableCmd := &cobra.Command{
		Use:   "enable-provisioning --token-file FILE",
		Short: "Enable automatic provisioning: prints the SCIM endpoint and writes the access token (shown once) to a file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			console, err := client()
			if err != nil {
				return err
			}
			creds, err := console.EnableAutomaticProvisioning(cmd.Context())
			if err != nil {
				return err
			}
			return writeCredentials(creds)
		},
	}
	enableCmd.Flags().StringVar(&tokenFile, "token-file", "scim-token", "where to write the access token")
	createTokenCmd := &cobra.Command{
		Use:   "create-token --token-file FILE",
		Short: "Create a SCIM access token (at most two exist) and write it to a file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			console, err := client()
			if err != nil {
				return err
			}
			creds, err := console.CreateSCIMToken(cmd.Context())
			if err != nil {
				return err
			}
			return writeCredentials(creds)
		},
	}
	createTokenCmd.Flags().StringVar(&tokenFile, "token-file", "scim-token", "where to write the access token")

	deleteTokenCmd := &cobra.Command{
		Use:   "delete-token TOKEN_ID",
		Short: "Delete a SCIM access token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			console, err := client()
			if err != nil {
				return err
			}
			return console.DeleteSCIMToken(cmd.Context(), args[0])
		},
	}
	statusCmd := &cobra.Command{
		Use:   "identity-source",
		Short: "Show the identity source, automatic provisioning and the SCIM tokens (without their values)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			console, err := client()
			if err != nil {
				return err
			}
			status, err := console.IdentitySource(cmd.Context())
			if err != nil {
				return err
			}
			return writeJSON(stdout, status)
		},
	}
	revertCmd := &cobra.Command{
		Use:   "revert",
		Short: "Change the identity source back to the Identity Center directory (disables provisioning, deletes the tokens)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			console, err := client()
			if err != nil {
				return err
			}
			return console.RevertToBuiltInDirectory(cmd.Context())
		},
	}
	var by time.Duration
	clockCmd := &cobra.Command{
		Use:   "advance-clock --by 8784h",
		Short: "Move the sandbox's clock forward (SCIM token expiry, Secrets Manager dates), to try the token rotation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			console, err := client()
			if err != nil {
				return err
			}
			now, err := console.AdvanceClock(cmd.Context(), by)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "The sandbox's clock now reads %s.\n", now.UTC().Format(time.RFC3339))
			return nil
		},
	}
	clockCmd.Flags().DurationVar(&by, "by", 0, "how far to move it (8784h is a year and a day)")
	_ = clockCmd.MarkFlagRequired("by")
	cmd.AddCommand(switchCmd, uploadCmd, enableCmd, createTokenCmd, deleteTokenCmd, statusCmd, revertCmd, clockCmd)
	return cmd
}
