package sandbox

// Adopting what the target has already. Entra matches an AWS user by
// userName and a group by displayName instead of creating it; the object it
// matched then follows the attribute mappings like one it created, so Entra
// updates it: a PATCH of replace operations, one for each mapped attribute
// that differs, and no request at all when none does. A user the built-in
// directory had before the cutover gets its externalId this way.
//
// AWS's PatchUser takes at most one operation on active and none on
// userName (the matching attribute, equal by definition), and one email at
// most; PatchGroup takes displayName and externalId. The operations below
// stay within that.

import (
	"context"
	"slices"
	"strings"

	"github.com/platformguide/ssocutover/internal/attrmap"
)

// mappedUser is the user the job's mappings make of an Entra user: what
// the engine creates, and what a matched user is updated to. Only the
// attributes the engine sends are taken from the mappings: userName, the
// name parts, displayName, the work e-mail and externalId.
func mappedUser(u scopeUser, mappings attrmap.Compiled) scimNewUser {
	sent := mappings.Apply(u.attribute)
	user := scimNewUser{
		Schemas:    []string{scimSchemaUser},
		ExternalID: mappings.Value(sent, attrmap.TargetExternalID), UserName: mappings.Value(sent, attrmap.TargetUserName),
		Name: scimNewUserName{
			GivenName: mappings.Value(sent, attrmap.TargetGivenName), FamilyName: mappings.Value(sent, attrmap.TargetFamilyName),
		},
		DisplayName: mappings.Value(sent, attrmap.TargetDisplayName), Active: true,
	}
	if email := mappings.Value(sent, attrmap.TargetWorkEmail); email != "" {
		user.Emails = []scimNewUserMail{{Value: email, Type: "work", Primary: true}}
	}
	return user
}

// attribute is the user's source attribute for the mappings.
func (u scopeUser) attribute(name string) string {
	if v, ok := attrmap.Builtin(name, u.id); ok {
		return v
	}
	switch strings.ToLower(name) {
	case "userprincipalname":
		return u.userPrincipalName
	case "mail":
		return u.mail
	case "givenname":
		return u.givenName
	case "surname":
		return u.surname
	case "displayname":
		return u.displayName
	}
	return ""
}

// replace is a replace operation of a PatchOp.
func replace(path string, value any) scimPatchOperation {
	return scimPatchOperation{Op: "replace", Path: path, Value: value}
}

// userReplacements are the operations that make a matched user (have)
// follow the mappings (want); none when it does already.
func userReplacements(have, want scimNewUser) []scimPatchOperation {
	var ops []scimPatchOperation
	for _, a := range []struct{ path, have, want string }{
		{"externalId", have.ExternalID, want.ExternalID},
		{"name.givenName", have.Name.GivenName, want.Name.GivenName},
		{"name.familyName", have.Name.FamilyName, want.Name.FamilyName},
		{"displayName", have.DisplayName, want.DisplayName},
	} {
		if a.have != a.want {
			ops = append(ops, replace(a.path, a.want))
		}
	}
	// The whole attribute is replaced, not emails[type eq "work"].value:
	// the result, one primary work email, then does not depend on the type
	// of the email the user had. A user without mail in Entra maps no email,
	// and the engine leaves the target's as it is, as on create.
	if len(want.Emails) > 0 && !slices.Equal(have.Emails, want.Emails) {
		ops = append(ops, replace("emails", want.Emails))
	}
	if have.Active != want.Active {
		ops = append(ops, replace("active", want.Active))
	}
	return ops
}

// groupReplacements are the operations that make a matched group (have)
// follow the mappings: externalId the Entra object ID, and displayName
// Entra's (the match ignores case, the mapping does not).
func groupReplacements(have scimFoundGroup, want scopeGroup) []scimPatchOperation {
	var ops []scimPatchOperation
	if have.ExternalID != want.id {
		ops = append(ops, replace("externalId", want.id))
	}
	if have.DisplayName != want.displayName {
		ops = append(ops, replace("displayName", want.displayName))
	}
	return ops
}

// update sends the operations to the matched object, if there are any, and
// records in event the attributes they replaced.
func (p *provisioningRun) update(ctx context.Context, resource, id string, ops []scimPatchOperation, event *ProvisioningEvent) error {
	if len(ops) == 0 {
		return nil
	}
	if err := p.scim.patch(ctx, resource, id, ops); err != nil {
		return err
	}
	p.exported++
	for _, op := range ops {
		event.Updated = append(event.Updated, op.Path)
	}
	return nil
}
