package analysis

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/platformguide/ssocutover/internal/preflight"
	"github.com/platformguide/ssocutover/internal/readiness"
	"github.com/platformguide/ssocutover/internal/store"
)

// cleanInventories is a one-group organisation that is ready for the
// cutover: the group exists once in Entra, security-enabled, with an owner,
// and its only member exists in Entra with every attribute provisioning needs.
func cleanInventories() (preflight.AWS, preflight.Entra) {
	aws := preflight.AWS{
		InstanceARN:     "arn:aws:sso:::instance/ssoins-1234567890abcdef",
		IdentityStoreID: "d-1234567890",
		Region:          "eu-west-1",
		PermissionSets:  []preflight.PermissionSet{{ARN: "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1", Name: "AdministratorAccess"}},
		Accounts:        []string{"111111111111"},
		Assignments: []preflight.Assignment{{
			AccountID:         "111111111111",
			PermissionSetARN:  "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1",
			PermissionSetName: "AdministratorAccess",
			PrincipalType:     preflight.PrincipalGroup,
			PrincipalID:       "aws-group-1",
			PrincipalName:     "aws-admins",
		}},
		Groups: []preflight.AWSGroup{{ID: "aws-group-1", DisplayName: "aws-admins", MemberUserNames: []string{"alice@corp.example"}}},
		Users:  []preflight.AWSUser{{ID: "aws-user-1", UserName: "alice@corp.example", DisplayName: "Alice Ng", Email: "alice@corp.example"}},
	}
	entra := preflight.Entra{
		TenantID: "00000000-0000-0000-0000-000000000001",
		Groups: []preflight.GroupMatch{{
			DisplayName: "aws-admins",
			Candidates: []preflight.EntraGroup{{
				ID: "entra-group-1", DisplayName: "aws-admins", SecurityEnabled: true, OwnerCount: 1,
				MemberIDs: []string{"entra-user-1"},
			}},
		}},
		Users: []preflight.EntraUser{{
			ID: "entra-user-1", UserPrincipalName: "alice@corp.example", Mail: "alice@corp.example",
			GivenName: "Alice", Surname: "Ng", DisplayName: "Alice Ng",
		}},
	}
	return aws, entra
}

// putInventories stores both inventories as the inventory activities would.
func putInventories(t *testing.T, st store.Store, aws preflight.AWS, entra preflight.Entra) AnalyzePreflightInput {
	t.Helper()
	ctx := context.Background()
	awsRef, err := st.Put(ctx, "aws-inventory", aws)
	require.NoError(t, err)
	entraRef, err := st.Put(ctx, "entra-inventory", entra)
	require.NoError(t, err)
	return AnalyzePreflightInput{AWSInventory: awsRef, EntraInventory: entraRef}
}

func TestAnalyzePreflightStoresTheReportAndReturnsItsSummary(t *testing.T) {
	st := store.Dir{Path: t.TempDir()}
	aws, entra := cleanInventories()
	// A second assigned group that has no Entra group of its name.
	aws.Assignments = append(aws.Assignments, preflight.Assignment{
		AccountID: "111111111111", PermissionSetARN: aws.PermissionSets[0].ARN, PermissionSetName: "AdministratorAccess",
		PrincipalType: preflight.PrincipalGroup, PrincipalID: "aws-group-2", PrincipalName: "aws-auditors",
	})
	aws.Groups = append(aws.Groups, preflight.AWSGroup{ID: "aws-group-2", DisplayName: "aws-auditors", MemberUserNames: []string{"alice@corp.example"}})
	entra.Groups = append(entra.Groups, preflight.GroupMatch{DisplayName: "aws-auditors"})
	in := putInventories(t, st, aws, entra)

	a := &Activities{Store: st}
	got, err := a.AnalyzePreflight(context.Background(), in)
	require.NoError(t, err)

	// The stored report is the analysis of exactly these inventories.
	var stored preflight.Report
	require.NoError(t, st.Get(context.Background(), got.Report, &stored))
	require.Equal(t, preflight.Analyze(aws, entra), stored)
	require.Equal(t, preflight.Summarize(stored), got.Summary)
	require.Contains(t, got.Report.Key, ReportKind+"-")

	// The missing group is in the summary, as a count.
	var missing []preflight.CodeCount
	for _, c := range got.Summary.ByCode {
		if c.Code == preflight.MissingGroup {
			missing = append(missing, c)
		}
	}
	require.Len(t, missing, 1, "summary by code: %+v", got.Summary.ByCode)
	require.Equal(t, 1, missing[0].Count)
	require.Equal(t, 2, got.Summary.Stats.Groups)

	// A retry stores the same report under the same reference.
	again, err := a.AnalyzePreflight(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, got, again)
}

func TestAnalyzePreflightOfACleanOrganisationHasNoFindings(t *testing.T) {
	st := store.Dir{Path: t.TempDir()}
	aws, entra := cleanInventories()
	a := &Activities{Store: st}

	got, err := a.AnalyzePreflight(context.Background(), putInventories(t, st, aws, entra))
	require.NoError(t, err)
	require.Zero(t, got.Summary.Blockers, "summary: %+v", got.Summary)
	require.Zero(t, got.Summary.Warnings, "summary: %+v", got.Summary)
	require.Empty(t, got.Summary.ByCode)
	require.Equal(t, 1, got.Summary.Stats.Groups)
}

func TestAnalyzePreflightSaysWhichInventoryItCannotRead(t *testing.T) {
	st := store.Dir{Path: t.TempDir()}
	aws, entra := cleanInventories()
	in := putInventories(t, st, aws, entra)
	a := &Activities{Store: st}

	missingAWS := in
	missingAWS.AWSInventory = store.Ref{Key: "aws-inventory-0000", Digest: "0000"}
	_, err := a.AnalyzePreflight(context.Background(), missingAWS)
	require.ErrorContains(t, err, "read the AWS inventory")

	missingEntra := in
	missingEntra.EntraInventory = store.Ref{Key: "entra-inventory-0000", Digest: "0000"}
	_, err = a.AnalyzePreflight(context.Background(), missingEntra)
	require.ErrorContains(t, err, "read the Entra inventory")
}

// Readiness checks that are not ok become findings: with the inventories,
// beside the organisation's; without them (the environment was not ready),
// alone.
func TestAnalyzePreflightAddsTheReadinessFindings(t *testing.T) {
	st := store.Dir{Path: t.TempDir()}
	aws, entra := cleanInventories()
	a := &Activities{Store: st}
	checks := []readiness.Check{
		{Area: readiness.AreaAWS, Name: "sso:CreateAccountAssignment", Status: readiness.Missing, Code: readiness.CodeMissingPermission, Detail: "implicitDeny", Fix: "allow it"},
		{Area: readiness.AreaAWS, Name: "Identity Center instance", Status: readiness.Warning, Detail: "delegated administrator", Fix: "recreate by hand"},
	}

	in := putInventories(t, st, aws, entra)
	in.Readiness = checks
	got, err := a.AnalyzePreflight(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, 1, got.Summary.Blockers)
	require.Equal(t, 1, got.Summary.Warnings)
	require.Equal(t, 1, got.Summary.Stats.Groups, "the organisation was analysed too")

	alone, err := a.AnalyzePreflight(context.Background(), AnalyzePreflightInput{Readiness: checks[:1]})
	require.NoError(t, err)
	var report preflight.Report
	require.NoError(t, st.Get(context.Background(), alone.Report, &report))
	require.Equal(t, []preflight.Finding{{Code: "missing-permission", Severity: preflight.Blocker, Names: []string{"sso:CreateAccountAssignment"},
		Message: "implicitDeny. What to do: allow it."}}, report.Findings)
	require.Zero(t, alone.Summary.Stats.Groups)
}
