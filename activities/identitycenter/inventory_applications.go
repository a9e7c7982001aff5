package identitycenter

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/platformguide/ssocutover/internal/progress"
)

// listedApplication is an application of the instance as sso-admin lists
// it, with its assignments by principal ID.
type listedApplication struct {
	arn, name          string
	assignmentRequired bool
	assignments        []ssotypes.ApplicationAssignment
}

// applications lists the instance's applications (ListApplications),
// whether each requires assignments (GetApplicationAssignmentConfiguration:
// DescribeApplication does not say) and who is assigned to each
// (ListApplicationAssignments), and hands each assigned group to
// foundGroup. Application assignments, like account assignments, name
// principals of the identity store, so the switch drops them too.
func (r *inventoryRun) applications(ctx context.Context, instanceARN string, foundGroup func(context.Context, string) error) ([]listedApplication, error) {
	var apps []listedApplication
	pages := ssoadmin.NewListApplicationsPaginator(r.a.SSOAdmin, &ssoadmin.ListApplicationsInput{InstanceArn: aws.String(instanceARN), MaxResults: aws.Int32(pageSize)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, r.callError(err, "list the applications of "+instanceARN, true)
		}
		for _, app := range out.Applications {
			apps = append(apps, listedApplication{arn: aws.ToString(app.ApplicationArn), name: aws.ToString(app.Name)})
		}
	}
	part := r.progress.Begin("applications", len(apps))
	defer part.End()
	err := progress.ForEach(ctx, r.a.concurrency(), len(apps), func(ctx context.Context, i int) error {
		app := &apps[i]
		config, err := r.a.SSOAdmin.GetApplicationAssignmentConfiguration(ctx, &ssoadmin.GetApplicationAssignmentConfigurationInput{ApplicationArn: aws.String(app.arn)})
		if err != nil {
			return r.callError(err, "read the assignment configuration of application "+app.name, false)
		}
		app.assignmentRequired = aws.ToBool(config.AssignmentRequired)
		pages := ssoadmin.NewListApplicationAssignmentsPaginator(r.a.SSOAdmin, &ssoadmin.ListApplicationAssignmentsInput{ApplicationArn: aws.String(app.arn), MaxResults: aws.Int32(pageSize)})
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if err != nil {
				return r.callError(err, "list the assignments of application "+app.name, false)
			}
			for _, as := range out.ApplicationAssignments {
				if as.PrincipalType == ssotypes.PrincipalTypeGroup {
					if err := foundGroup(ctx, aws.ToString(as.PrincipalId)); err != nil {
						return err
					}
				}
			}
			app.assignments = append(app.assignments, out.ApplicationAssignments...)
		}
		part.Add(1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return apps, nil
}
