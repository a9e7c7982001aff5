package apicalls_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/apicalls"
	"github.com/platformguide/ssocutover/sandbox"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// The real SDK clients, talking to the sandbox through the Transport, are
// counted by service and operation whatever their protocol: the Query
// protocol (IAM) as well as JSON 1.1 (the others).
func TestTransportNamesTheOperationsOfTheSDKClients(t *testing.T) {
	w := world.Sample()
	sb, err := sandbox.Start(w, sandbox.Options{})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	cfg := aws.Config{
		Region:       w.AWS.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIASANDBOXEXAMPLE", "sandbox-secret-key", ""),
		BaseEndpoint: aws.String(sb.AWSURL),
		HTTPClient:   &http.Client{Transport: &apicalls.Transport{}},
	}
	counter := apicalls.NewCounter()
	ctx := apicalls.WithCounter(context.Background(), counter)

	iamClient := iam.NewFromConfig(cfg)
	_, err = iamClient.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("counted")})
	require.NoError(t, err)
	_, err = iamClient.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("counted")})
	require.NoError(t, err)
	_, err = iamClient.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("counted")})
	require.NoError(t, err)

	secrets := secretsmanager.NewFromConfig(cfg)
	_, err = secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("counted"), SecretString: aws.String("s3cret")})
	require.NoError(t, err)
	_, err = secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("counted")})
	require.NoError(t, err)

	instances, err := ssoadmin.NewFromConfig(cfg).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	require.NoError(t, err)
	require.NotEmpty(t, instances.Instances)
	_, err = identitystore.NewFromConfig(cfg).ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: instances.Instances[0].IdentityStoreId})
	require.NoError(t, err)

	require.Equal(t, []apicalls.OperationCount{
		{Operation: "iam:CreateUser", Calls: 1},
		{Operation: "iam:GetUser", Calls: 2},
		{Operation: "identitystore:ListUsers", Calls: 1},
		{Operation: "secretsmanager:CreateSecret", Calls: 1},
		{Operation: "secretsmanager:GetSecretValue", Calls: 1},
		{Operation: "sso-admin:ListInstances", Calls: 1},
	}, counter.Counts())
}
