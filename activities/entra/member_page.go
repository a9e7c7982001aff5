package entra

import (
	"errors"
	"fmt"

	"github.com/microsoft/kiota-abstractions-go/serialization"

	"github.com/platformguide/ssocutover/internal/preflight"
)

// memberPage is a page of a group's members, parsed by the SDK's JSON parse
// nodes like any answer, into only what the inventory reads.
//
// The SDK's models.User knows some 130 properties, and parsing one builds a
// deserializer for each of them: at 100,000 users, the million members of
// the candidate groups made about 4 GB of garbage that way, most of the
// Entra inventory's memory. The members are read with $select, so these
// few properties are all a page holds.
type memberPage struct {
	members  []*member
	nextLink *string
	// attributes are the user properties the mappings read beyond
	// memberFields (directory extensions, employeeId, ...).
	attributes []string
}

// memberPageFactory makes the pages of members for a run whose mappings read
// attributes.
func memberPageFactory(attributes []string) serialization.ParsableFactory {
	return func(serialization.ParseNode) (serialization.Parsable, error) {
		return &memberPage{attributes: attributes}, nil
	}
}

// GetOdataNextLink is the next page's URL, nil on the last page.
func (p *memberPage) GetOdataNextLink() *string { return p.nextLink }

// Serialize is never called: a page is only read.
func (p *memberPage) Serialize(serialization.SerializationWriter) error {
	return errors.New("a page of members is only read")
}

// GetFieldDeserializers reads the page's members and its next link.
func (p *memberPage) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"@odata.nextLink": func(n serialization.ParseNode) (err error) {
			p.nextLink, err = n.GetStringValue()
			return err
		},
		"value": func(n serialization.ParseNode) error {
			values, err := n.GetCollectionOfObjectValues(func(serialization.ParseNode) (serialization.Parsable, error) {
				return &member{attributes: p.attributes}, nil
			})
			for _, v := range values {
				if m, ok := v.(*member); ok {
					p.members = append(p.members, m)
				}
			}
			return err
		},
	}
}

// The @odata.type of the members the inventory tells apart; other members
// (devices, service principals, contacts) are not provisioned to AWS.
const (
	odataTypeUser  = "#microsoft.graph.user"
	odataTypeGroup = "#microsoft.graph.group"
)

// member is a group member: a user with the properties the inventory
// selects, read straight into the inventory's view of a user, or a nested
// group (only its ID and DisplayName).
type member struct {
	odataType string
	preflight.EntraUser
	// attributes are the properties read into EntraUser.Attributes.
	attributes []string
}

// Serialize is never called: a member is only read.
func (m *member) Serialize(serialization.SerializationWriter) error {
	return errors.New("a member is only read")
}

// GetFieldDeserializers reads the selected properties; Graph sends no
// others, and any other is ignored.
func (m *member) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	str := func(into *string) func(serialization.ParseNode) error {
		return func(n serialization.ParseNode) error {
			v, err := n.GetStringValue()
			*into = deref(v)
			return err
		}
	}
	fields := map[string]func(serialization.ParseNode) error{
		"@odata.type":       str(&m.odataType),
		"id":                str(&m.ID),
		"userPrincipalName": str(&m.UserPrincipalName),
		"mail":              str(&m.Mail),
		"givenName":         str(&m.GivenName),
		"surname":           str(&m.Surname),
		"displayName":       str(&m.DisplayName),
		"otherMails": func(n serialization.ParseNode) error {
			values, err := n.GetCollectionOfPrimitiveValues("string")
			for _, v := range values {
				if s, ok := v.(*string); ok && s != nil {
					m.OtherMails = append(m.OtherMails, *s)
				}
			}
			return err
		},
	}
	for _, name := range m.attributes {
		fields[name] = func(n serialization.ParseNode) error {
			v, err := n.GetRawValue()
			if s := rawString(v); s != "" {
				if m.Attributes == nil {
					m.Attributes = map[string]string{}
				}
				m.Attributes[name] = s
			}
			return err
		}
	}
	return fields
}

// rawString is a property's value as text: the parse nodes give strings,
// booleans and numbers as pointers.
func rawString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case *string:
		return deref(v)
	case *bool:
		return fmt.Sprint(deref(v))
	case *float64:
		return fmt.Sprint(deref(v))
	case *float32:
		return fmt.Sprint(deref(v))
	case *int64:
		return fmt.Sprint(deref(v))
	case *int32:
		return fmt.Sprint(deref(v))
	default:
		return fmt.Sprint(v)
	}
}
