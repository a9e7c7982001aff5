package sandbox

// Who the sandbox's credentials are, and what they may do: the readiness
// check (`starter doctor`) asks STS and IAM, and a world can take actions
// away (world.AWS.DeniedActions) so that both the check and the cutover
// meet the refusal.
//
//	sts:GetCallerIdentity        https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
//	iam:SimulatePrincipalPolicy  https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
//	sso:DescribeInstance         https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribeInstance.html
//
// The caller is a session of the role sandboxCallerRole in the account
// the world's credentials belong to (the delegated administrator when the
// world names one). A denied action is refused as AWS refuses it:
// AccessDeniedException (HTTP 400) on the JSON services, AccessDenied
// (HTTP 403) on IAM.

import (
	"fmt"
	"net/http"
	"strings"
)

const (
	stsSigningName  = "sts"
	stsAPIVersion   = "2011-06-15"
	stsXMLNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	// sandboxCallerRole is the role the sandbox's credentials act as.
	sandboxCallerRole    = "ssocutover-worker"
	sandboxCallerSession = "sandbox"
)

func (s *awsServer) callerRoleARN() string {
	return "arn:aws:iam::" + s.iam.accountID + ":role/" + sandboxCallerRole
}

func (s *awsServer) callerSessionARN() string {
	return "arn:aws:sts::" + s.iam.accountID + ":assumed-role/" + sandboxCallerRole + "/" + sandboxCallerSession
}

// deniedActions indexes the world's denied actions, lower-cased (IAM
// action names are case-insensitive).
func deniedActions(actions []string) map[string]bool {
	denied := make(map[string]bool, len(actions))
	for _, a := range actions {
		denied[strings.ToLower(a)] = true
	}
	return denied
}

// allowed refuses a denied action with the error of its protocol.
func (s *awsServer) allowed(action string) error {
	if !s.denied[strings.ToLower(action)] {
		return nil
	}
	service, _, _ := strings.Cut(action, ":")
	message := fmt.Sprintf("User: %s is not authorized to perform: %s because no identity-based policy allows the %s action", s.callerSessionARN(), action, action)
	if service == iamSigningName || service == stsSigningName {
		return &awsError{Type: "AccessDenied", Status: http.StatusForbidden, Message: message}
	}
	return &awsError{Type: "AccessDeniedException", Status: http.StatusBadRequest, Message: message}
}

// jsonAction is the IAM action of a JSON request's X-Amz-Target.
func jsonAction(target string) string {
	prefix, op, _ := strings.Cut(target, ".")
	switch prefix {
	case ssoAdminTarget:
		return "sso:" + op
	case identityStoreTarget:
		return "identitystore:" + op
	}
	return "secretsmanager:" + op
}

// signingService is the service of a request's SigV4 credential scope
// (Credential=AKID/date/region/service/aws4_request).
func signingService(r *http.Request) string {
	_, rest, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	scope, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(scope, "/")
	if len(parts) < 4 {
		return ""
	}
	return parts[3]
}

func (s *awsServer) stsOperations() map[string]iamOperation {
	return map[string]iamOperation{"GetCallerIdentity": s.stsGetCallerIdentity}
}

// stsGetCallerIdentity answers who the credentials are. AWS documents that
// no permission is needed to call it.
func (s *awsServer) stsGetCallerIdentity(*queryCall) (any, error) {
	return struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}{s.callerSessionARN(), "AROASANDBOXEXAMPLE0000:" + sandboxCallerSession, s.iam.accountID}, nil
}

// iamSimulatePrincipalPolicy evaluates each action on each resource for
// the caller's role (or an IAM user of the account): implicitDeny for a
// denied action, allowed for the others, as a role with a policy allowing
// "*" but for those.
func (s *awsServer) iamSimulatePrincipalPolicy(call *queryCall) (any, error) {
	source := call.param("PolicySourceArn")
	if source == "" {
		return nil, iamValidationError("1 validation error detected: Value null at 'policySourceArn' failed to satisfy constraint: Member must not be null")
	}
	if source != s.callerRoleARN() && !s.iam.hasUserARN(source) {
		return nil, iamNoSuchEntity("Entity %s does not exist.", source)
	}
	actions := call.members("ActionNames")
	if len(actions) == 0 {
		return nil, iamValidationError("1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	resources := call.members("ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	type result struct {
		EvalActionName   string `xml:"EvalActionName"`
		EvalResourceName string `xml:"EvalResourceName"`
		EvalDecision     string `xml:"EvalDecision"`
	}
	var results []result
	for _, a := range actions {
		for _, res := range resources {
			decision := "allowed"
			if s.denied[strings.ToLower(a)] {
				decision = "implicitDeny"
			}
			results = append(results, result{a, res, decision})
		}
	}
	return struct {
		EvaluationResults []result `xml:"EvaluationResults>member"`
		IsTruncated       bool     `xml:"IsTruncated"`
	}{results, false}, nil
}

// members reads a Query list parameter: Name.member.1, Name.member.2, ...
func (c *queryCall) members(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := c.form[fmt.Sprintf("%s.member.%d", name, i)]
		if !ok || len(v) == 0 {
			return out
		}
		out = append(out, v[0])
	}
}

func (st *iamState) hasUserARN(arn string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, u := range st.users {
		if u.ARN == arn {
			return true
		}
	}
	return false
}

// describeInstance answers sso:DescribeInstance for the world's instance.
func (s *awsServer) describeInstance(call *awsCall) (any, error) {
	var req struct {
		InstanceARN string `json:"InstanceArn"`
	}
	if err := call.decode(&req); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.RLock()
	defer st.mu.RUnlock()
	if err := st.checkInstance(call, req.InstanceARN); err != nil {
		return nil, err
	}
	return st.instanceDoc(), nil
}
