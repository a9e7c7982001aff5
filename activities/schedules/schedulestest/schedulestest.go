// Package schedulestest gives the schedule tests a real Temporal dev server
// and a client of it that encrypts payloads, as the worker's and the
// starter's do.
package schedulestest

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/model"
	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/sandbox/devserver"
	"github.com/platformguide/ssocutover/workflows"
)

// Server is a dev server (state in memory, no UI) and a client of it.
type Server struct {
	dev    *devserver.Server
	Client client.Client
	// DataConverter is the client's: the codec's, which encrypts.
	DataConverter converter.DataConverter
}

// Start runs a dev server with the Temporal CLI FindTemporalCLI finds
// (bin/temporal, built by `make tools`) and dials it with a new key.
func Start(ctx context.Context) (*Server, error) {
	cli, err := devserver.FindTemporalCLI("", os.Getenv)
	if err != nil {
		return nil, err
	}
	dev, err := devserver.Start(ctx, devserver.Options{CLIPath: cli, Headless: true}, nil)
	if err != nil {
		return nil, err
	}
	payloads, err := newCodec()
	if err != nil {
		_ = dev.Stop()
		return nil, err
	}
	conn := temporalclient.Options{Address: dev.Address, Namespace: temporalclient.DefaultNamespace, Codec: payloads}
	c, err := conn.Dial(ctx, nil)
	if err != nil {
		_ = dev.Stop()
		return nil, err
	}
	return &Server{dev: dev, Client: c, DataConverter: payloads.DataConverter()}, nil
}

func newCodec() (*codec.Codec, error) {
	line, err := codec.NewKeyLine(time.Now())
	if err != nil {
		return nil, err
	}
	keys, err := codec.ParseKeys(line, "test key")
	if err != nil {
		return nil, err
	}
	return codec.New(keys), nil
}

// Stop closes the client and stops the server.
func (s *Server) Stop() {
	s.Client.Close()
	if err := s.dev.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

// Request is a valid rotation request for identityStoreID.
func Request(identityStoreID string) workflows.ScimTokenRotationRequest {
	return workflows.ScimTokenRotationRequest{
		IdentityStoreID: identityStoreID,
		Region:          "eu-west-1",
		App: model.EnterpriseApp{
			DisplayName:         workflows.EnterpriseAppName(identityStoreID),
			AppID:               "11111111-1111-1111-1111-111111111111",
			ApplicationObjectID: "22222222-2222-2222-2222-222222222222",
			ServicePrincipalID:  "33333333-3333-3333-3333-333333333333",
		},
		JobID:        "AWSSCIM.0123456789abcdef.fedcba9876543210",
		SCIMEndpoint: "https://scim.eu-west-1.amazonaws.com/a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d/scim/v2",
	}
}

// Main runs a package's tests against one dev server, started before them
// into *server and stopped after; it exits with the tests' code.
func Main(m interface{ Run() int }, server **Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	s, err := Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the Temporal dev server:", err)
		os.Exit(1)
	}
	*server = s
	code := m.Run()
	s.Stop()
	os.Exit(code)
}
