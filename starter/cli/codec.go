package cli

import (
	"cmp"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/platformguide/ssocutover/internal/codec"
)

// EnvCodecServerToken is the bearer token the codec server asks for. It has
// no flag: flags show in the process list.
const EnvCodecServerToken = "SSOCUTOVER_CODEC_SERVER_TOKEN"

// DefaultCodecListen is where the codec server listens: this machine only.
const DefaultCodecListen = "127.0.0.1:8081"

func (c *cli) codecKeyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "codec-key",
		Short: "Print a new payload encryption key (id:base64key)",
		Long: `Print a new random AES-256 key for the payload codec, as one "id:base64key" line.

Give the worker and the starter the same keys, either in the environment:

    export ` + codec.EnvKeys + `="$(starter codec-key)"

or in a file only its owner can read (the first line encrypts, every line
decrypts; the worker refuses a file others can read):

    starter codec-key > keys && chmod 600 keys
    export ` + codec.EnvKeyFile + `=$PWD/keys

To rotate, put the new key first and keep the old ones after it (in the
variable, separated by commas) for as long as histories they encrypted are
kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			line, err := codec.NewKeyLine(time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(c.stdout, line)
			return nil
		},
	}
}

func (c *cli) codecServerCommand() *cobra.Command {
	var listen, tlsCert, tlsKey string
	var origins []string
	var insecureLocal bool
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Serve the payload codec to the Temporal UI and CLI, so they show decrypted payloads",
		Long: `Run a codec server: the Temporal UI and 'temporal workflow show --codec-endpoint'
send it the encrypted payloads of a history and show what it decrypts.

It speaks Temporal's remote codec protocol (POST /encode and POST /decode, also
under /{namespace}/), with the keys of the worker (` + codec.EnvKeys + ` or
--codec-key-file). It listens on this machine only by default; the browser
running the UI calls it, so it must be reachable from there. Requests from a
browser are accepted from the --ui-origin origins only (default: the dev
server's UI). Set ` + EnvCodecServerToken + ` to demand
"Authorization: Bearer <token>" on every request. It decrypts every payload
for whoever reaches it: without a token it refuses to start unless
--insecure-local says that any process of this machine may read them (it
then listens on loopback only), and an address other than loopback is
refused without both a token and TLS (--tls-cert, --tls-key).

Then, in the UI: Workflows, "Configure Codec Server" (top right), endpoint
http://127.0.0.1:8081 (or start the dev server with --ui-codec-endpoint); on
the command line:

    temporal workflow show --workflow-id ID --codec-endpoint http://127.0.0.1:8081
    # with a token: --codec-auth "Bearer $` + EnvCodecServerToken + `"

Stop it with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			payloads, err := c.keySource().LoadCodec()
			if err != nil {
				return err
			}
			if len(origins) == 0 {
				origins = []string{cmp.Or(c.uiBase(), "http://127.0.0.1:8233")}
			}
			token := c.getenv(EnvCodecServerToken)
			srv, err := codec.Listen(listen, codec.ServerOptions{Codec: payloads, AllowedOrigins: origins, BearerToken: token, TLSCertFile: tlsCert, TLSKeyFile: tlsKey, InsecureLocal: insecureLocal})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Codec server at %s (encrypts with key %s), for the UI at %v; bearer token required: %t\n",
				srv.URL, payloads.CurrentKeyID(), origins, token != "")
			fmt.Fprintf(c.stdout, "    temporal workflow show --workflow-id ID --codec-endpoint %s\n", srv.URL)
			<-cmd.Context().Done()
			return srv.Close()
		},
	}
	cmd.Flags().StringVar(&listen, "listen", DefaultCodecListen, "host:port to listen on; an address other than loopback needs "+EnvCodecServerToken+" and --tls-cert/--tls-key")
	cmd.Flags().BoolVar(&insecureLocal, "insecure-local", false, "serve without a token, on loopback only: any process of this machine can then read every payload")
	cmd.Flags().StringVar(&tlsCert, "tls-cert", "", "PEM certificate file: serve HTTPS")
	cmd.Flags().StringVar(&tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	cmd.Flags().StringSliceVar(&origins, "ui-origin", nil, "origin of a Temporal UI allowed to call from a browser, scheme://host:port; repeatable (default: the dev server's UI, from --ui-url or --address)")
	return cmd
}
