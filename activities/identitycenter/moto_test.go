package identitycenter

// A second opinion on the AWS side: the same activities against moto
// (moto_server, an AWS emulator nobody here wrote, on the machine image)
// and against the sandbox, on the same organisation. What each reads is
// compared by name, since the two make their own IDs.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/sandbox/world"
)

// startMoto runs moto_server on a free port until the test ends and
// returns the activities with the worker's clients pointed at it.
func startMoto(t *testing.T, region string) *awsWorld {
	t.Helper()
	server, err := exec.LookPath("moto_server")
	require.NoError(t, err, "moto_server is part of the development machine's image (README, Development)")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(server, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	// moto is a Python program on botocore: none of the test's AWS_
	// settings (an empty AWS_PROFILE makes botocore fail) is its business.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") })
	// AWS's managed policies exist in every account; moto loads them
	// only when asked (AWSSSOMasterAccountAdministrator is the
	// break-glass user's).
	cmd.Env = append(cmd.Env, "MOTO_IAM_LOAD_MANAGED_POLICIES=true")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	require.Eventually(t, func() bool {
		resp, err := http.Get(url + "/moto-api/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "moto_server did not start")

	t.Setenv("AWS_ENDPOINT_URL", url)
	t.Setenv("AWS_REGION", region)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAMOTOEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "moto-secret-key")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{RequestsPerSecond: -1})
	require.NoError(t, err)
	core, logs := observer.New(zap.DebugLevel)
	return &awsWorld{
		cfg: cfg, logCore: core, logs: logs,
		a: &Activities{
			IdentityStore: identitystore.NewFromConfig(cfg),
			SSOAdmin:      motoSSOAdmin{ssoadmin.NewFromConfig(cfg)},
			IAM:           iam.NewFromConfig(cfg),
			Secrets:       secretsmanager.NewFromConfig(cfg),
			Store:         store.Dir{Path: t.TempDir()},
		},
	}
}

// motoSSOAdmin is moto's sso-admin, which does not serve the applications
// API (moto 5.2 answers ListApplications with a server error): it has no
// applications, and says so as AWS would for an instance without any.
type motoSSOAdmin struct{ *ssoadmin.Client }

func (motoSSOAdmin) ListApplications(context.Context, *ssoadmin.ListApplicationsInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListApplicationsOutput, error) {
	return &ssoadmin.ListApplicationsOutput{}, nil
}

// seedMoto creates w's organisation in moto's default instance through
// the SDK, as a person would through the APIs, and returns the instance's
// ARN and identity store.
func seedMoto(t *testing.T, m *awsWorld, w *world.World) (instanceARN, storeID string) {
	t.Helper()
	ctx := context.Background()
	ids, sso := m.a.IdentityStore.(*identitystore.Client), m.a.SSOAdmin.(motoSSOAdmin).Client
	instances, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	require.NoError(t, err)
	require.Len(t, instances.Instances, 1, "moto has one instance")
	instanceARN, storeID = aws.ToString(instances.Instances[0].InstanceArn), aws.ToString(instances.Instances[0].IdentityStoreId)

	userIDs := map[string]string{}
	for _, u := range w.AWS.Users {
		out, err := ids.CreateUser(ctx, &identitystore.CreateUserInput{
			IdentityStoreId: aws.String(storeID), UserName: aws.String(u.UserName), DisplayName: aws.String(u.DisplayName),
			Name:   &idtypes.Name{GivenName: aws.String(u.GivenName), FamilyName: aws.String(u.FamilyName)},
			Emails: []idtypes.Email{{Value: aws.String(u.Email), Primary: true, Type: aws.String("work")}},
		})
		require.NoError(t, err)
		userIDs[u.UserName] = aws.ToString(out.UserId)
	}
	groupIDs := map[string]string{}
	for _, g := range w.AWS.Groups {
		out, err := ids.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: aws.String(storeID), DisplayName: aws.String(g.DisplayName)})
		require.NoError(t, err)
		groupIDs[g.DisplayName] = aws.ToString(out.GroupId)
		for _, member := range g.Members {
			_, err := ids.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{
				IdentityStoreId: aws.String(storeID), GroupId: out.GroupId, MemberId: &idtypes.MemberIdMemberUserId{Value: userIDs[member]},
			})
			require.NoError(t, err)
		}
	}
	setARNs := map[string]string{}
	for _, ps := range w.AWS.PermissionSets {
		// SessionDuration given: without it moto answers 3600, a number,
		// where the API reference documents an ISO 8601 string ("PT1H"),
		// and the SDK refuses the answer.
		out, err := sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: aws.String(instanceARN), Name: aws.String(ps.Name), SessionDuration: aws.String("PT1H")})
		require.NoError(t, err)
		setARNs[ps.Name] = aws.ToString(out.PermissionSet.PermissionSetArn)
	}
	for _, as := range w.AWS.Assignments {
		principalType, principalID := ssotypes.PrincipalTypeGroup, groupIDs[as.Group]
		if as.User != "" {
			principalType, principalID = ssotypes.PrincipalTypeUser, userIDs[as.User]
		}
		_, err := sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{
			InstanceArn: aws.String(instanceARN), TargetId: aws.String(as.Account), TargetType: ssotypes.TargetTypeAwsAccount,
			PermissionSetArn: aws.String(setARNs[as.PermissionSet]), PrincipalType: principalType, PrincipalId: aws.String(principalID),
		})
		require.NoError(t, err)
		// AWS provisions the permission set to the account as part of a
		// successful CreateAccountAssignment (its API reference says so);
		// moto does not, and lists the account under
		// ListAccountsForProvisionedPermissionSet only once provisioned.
		_, err = sso.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{
			InstanceArn: aws.String(instanceARN), PermissionSetArn: aws.String(setARNs[as.PermissionSet]),
			TargetId: aws.String(as.Account), TargetType: ssotypes.ProvisionTargetTypeAwsAccount,
		})
		require.NoError(t, err)
	}
	return instanceARN, storeID
}

// motoAccount is the account moto's credentials belong to: moto provisions
// every permission set to it, whatever account is named (its
// ProvisionPermissionSet ignores the target), so its organisation can have
// only this one.
const motoAccount = "123456789012"

// motoWorld is smallWorld in moto's one account: aws-admins administers it,
// aws-readers reads it, carol administers it directly; dave and erin hold
// nothing.
func motoWorld() *world.World {
	w := smallWorld()
	w.AWS.Accounts = []world.Account{{ID: motoAccount, Name: "management"}}
	w.AWS.Assignments = []world.Assignment{
		{Group: "aws-admins", Account: motoAccount, PermissionSet: "AdministratorAccess"},
		{Group: "aws-readers", Account: motoAccount, PermissionSet: "ReadOnlyAccess"},
		{User: "carol@corp.example", Account: motoAccount, PermissionSet: "AdministratorAccess"},
	}
	return w
}

// byName is an inventory with every ID left out: what two emulators that
// make their own IDs can agree on.
type byName struct {
	PermissionSets []string
	Accounts       []string
	Assignments    []string // account, permission set, principal type and name
	Groups         []string // display name: member user names
	Users          []string // userName, display name, e-mail
}

func inventoryByName(inv preflight.AWS) byName {
	n := byName{Accounts: inv.Accounts}
	for _, ps := range inv.PermissionSets {
		n.PermissionSets = append(n.PermissionSets, ps.Name)
	}
	for _, a := range inv.Assignments {
		n.Assignments = append(n.Assignments, fmt.Sprintf("%s %s %s %s", a.AccountID, a.PermissionSetName, a.PrincipalType, a.PrincipalName))
	}
	for _, g := range inv.Groups {
		n.Groups = append(n.Groups, fmt.Sprintf("%s: %v", g.DisplayName, g.MemberUserNames))
	}
	for _, u := range inv.Users {
		n.Users = append(n.Users, fmt.Sprintf("%s %q %s", u.UserName, u.DisplayName, u.Email))
	}
	slices.Sort(n.Assignments)
	return n
}

// TestTheAWSActivitiesAgreeWithMoto: the inventory (listed per pair and
// per principal), the restore of dropped assignments and the break-glass
// user behave on moto as on the sandbox.
func TestTheAWSActivitiesAgreeWithMoto(t *testing.T) {
	w := motoWorld()

	// The sandbox's answer.
	sandboxSide := startAWS(t, w, 0)
	want, err := sandboxSide.a.InventoryAWS(context.Background(), InventoryAWSInput{IdentityStoreID: w.AWS.IdentityStoreID})
	require.NoError(t, err)
	wantByName := inventoryByName(load(t, sandboxSide.a, want.Inventory))

	m := startMoto(t, w.AWS.Region)
	instanceARN, storeID := seedMoto(t, m, w)

	// The inventory, both ways.
	var snapshot InventoryAWSResult
	for _, listing := range []string{preflight.ListPerPair, preflight.ListPerPrincipal} {
		m.a.listing = listing
		got, err := m.a.InventoryAWS(context.Background(), InventoryAWSInput{IdentityStoreID: storeID})
		require.NoError(t, err, listing)
		require.Equal(t, instanceARN, got.InstanceARN)
		require.Equal(t, wantByName, inventoryByName(load(t, m.a, got.Inventory)), "moto and the sandbox read the same organisation (%s)", listing)
		require.Equal(t, want.Assignments, got.Assignments)
		snapshot = got
	}
	m.a.listing = ""

	// The restore: two assignments dropped, both created again.
	inv := load(t, m.a, snapshot.Inventory)
	for _, as := range inv.Assignments[:2] {
		_, err := m.a.SSOAdmin.(motoSSOAdmin).Client.DeleteAccountAssignment(context.Background(), &ssoadmin.DeleteAccountAssignmentInput{
			InstanceArn: aws.String(instanceARN), TargetId: aws.String(as.AccountID), TargetType: ssotypes.TargetTypeAwsAccount,
			PermissionSetArn: aws.String(as.PermissionSetARN), PrincipalType: ssotypes.PrincipalType(as.PrincipalType), PrincipalId: aws.String(as.PrincipalID),
		})
		require.NoError(t, err)
	}
	res, report, err := verify(t, m, VerifyAssignmentsInput{InstanceARN: instanceARN, Snapshot: snapshot.Inventory, Restore: true})
	require.NoError(t, err)
	require.Equal(t, 2, res.AssignmentsRestored, "%+v", report)
	require.Zero(t, res.AssignmentsMissing)
	again, err := m.a.InventoryAWS(context.Background(), InventoryAWSInput{IdentityStoreID: storeID})
	require.NoError(t, err)
	require.Equal(t, wantByName, inventoryByName(load(t, m.a, again.Inventory)), "the organisation is whole again")

	// The break-glass user and its password, twice: one user, one secret.
	first, err := ensureBreakGlass(t, m, breakGlassInput())
	require.NoError(t, err)
	second, err := ensureBreakGlass(t, m, breakGlassInput())
	require.NoError(t, err)
	require.Equal(t, first.Password.ARN, second.Password.ARN)
	require.Equal(t, storedPassword(t, m, first), storedPassword(t, m, second), "the second run keeps the password it stored")
	users, err := m.a.IAM.(*iam.Client).ListUsers(context.Background(), &iam.ListUsersInput{})
	require.NoError(t, err)
	require.Len(t, users.Users, 1)
	require.Equal(t, breakGlassInput().UserName, aws.ToString(users.Users[0].UserName))
}
