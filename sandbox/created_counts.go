package sandbox

import (
	"sort"
)

// CreatedResources lists what a cutover creates and could create twice: the
// enterprise apps' service principals and their provisioning jobs on the
// Graph side, the IAM users and live (not scheduled for deletion) secrets on
// the AWS side. The crash-and-fault campaign checks each count after a run.
type CreatedResources struct {
	ServicePrincipals []string
	// ProvisioningJobs maps a service principal ID to its jobs' IDs.
	ProvisioningJobs map[string][]string
	IAMUsers         []string
	LiveSecrets      []string
}

// CreatedResources returns what the sandbox holds now, each list sorted.
func (s *Sandbox) CreatedResources() CreatedResources {
	var out CreatedResources
	for _, app := range s.EnterpriseApps() {
		if app.ServicePrincipalID != "" {
			out.ServicePrincipals = append(out.ServicePrincipals, app.ServicePrincipalID)
		}
	}
	sort.Strings(out.ServicePrincipals)

	sync := s.graph.sync
	sync.mu.Lock()
	out.ProvisioningJobs = map[string][]string{}
	for spID, jobs := range sync.jobs {
		for _, j := range jobs {
			out.ProvisioningJobs[spID] = append(out.ProvisioningJobs[spID], j.id)
		}
	}
	sync.mu.Unlock()

	iam := s.aws.iam
	iam.mu.Lock()
	for _, u := range iam.users {
		out.IAMUsers = append(out.IAMUsers, u.Name)
	}
	iam.mu.Unlock()
	sort.Strings(out.IAMUsers)

	secrets := s.aws.secrets
	secrets.mu.Lock()
	for _, sec := range secrets.secrets {
		if sec.Deleted == nil {
			out.LiveSecrets = append(out.LiveSecrets, sec.Name)
		}
	}
	secrets.mu.Unlock()
	sort.Strings(out.LiveSecrets)
	return out
}
