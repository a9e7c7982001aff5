// Package samlmeta parses, validates and generates the two SAML 2.0 metadata
// documents a cutover exchanges:
//
//   - the AWS IAM Identity Center service provider (SP) metadata, which the
//     person downloads from the console when switching the identity source to
//     an external identity provider (gate G2), and
//   - the Microsoft Entra ID federation metadata of the enterprise
//     application, which the workflow fetches and hands to the person (step 6).
//
// Both documents come from outside the workflow (a signal, an HTTP download),
// so parsing is defensive: a size limit, no DOCTYPE (which rules out entity
// expansion attacks), exactly one root element, and every value checked
// against the formats AWS and Microsoft actually publish. Every error says
// what is wrong and how to get a good document.
//
// The generators (SPMetadata, IdPMetadata) produce documents in the real
// formats for the sandbox; their output always passes the parsers.
package samlmeta

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxMetadataSize is the largest metadata document accepted, in bytes. Real
// documents are a few kilobytes (Entra's with several certificates stays well
// under 32 KiB); anything larger is not what the console or Entra produced.
const MaxMetadataSize = 64 << 10

// SAML 2.0 metadata names used by both documents.
const (
	nsMetadata      = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsXMLDSig       = "http://www.w3.org/2000/09/xmldsig#"
	protocolSAML20  = "urn:oasis:names:tc:SAML:2.0:protocol"
	bindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	bindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
)

// The kinds of problem a metadata document can have. Every error returned by
// this package wraps exactly one of them, so callers can use errors.Is.
var (
	ErrTooLarge       = errors.New("metadata too large")
	ErrMalformedXML   = errors.New("metadata is not well-formed XML")
	ErrUnsafeXML      = errors.New("metadata contains a DOCTYPE")
	ErrNotMetadata    = errors.New("not a SAML 2.0 EntityDescriptor")
	ErrWrongDocument  = errors.New("wrong kind of SAML metadata")
	ErrDescriptor     = errors.New("descriptor count or protocol wrong")
	ErrEntityID       = errors.New("entity ID not in the expected format")
	ErrACS            = errors.New("assertion consumer service not in the expected format")
	ErrRegion         = errors.New("region mismatch")
	ErrSingleSignOn   = errors.New("single sign-on service not in the expected format")
	ErrCertificate    = errors.New("signing certificate missing, malformed or expired")
	ErrInvalidRequest = errors.New("invalid argument")
)

// Error is a metadata problem: what is wrong, and what the person should do
// to get a good document. It unwraps to one of the Err* kinds above.
type Error struct {
	Kind    error
	Problem string
	Fix     string
}

func (e *Error) Error() string {
	if e.Fix == "" {
		return e.Problem
	}
	return e.Problem + ". " + e.Fix
}

func (e *Error) Unwrap() error { return e.Kind }

// quote shows a value from the document in an error message. Values are
// shortened so a hostile document cannot make the error (which ends up in
// workflow history and logs) arbitrarily long. Metadata holds no secrets.
func quote(s string) string {
	const limit = 120
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// entityDescriptor is the part of a SAML 2.0 metadata EntityDescriptor both
// parsers read. Unknown elements (Signature, RoleDescriptor, NameIDFormat,
// ...) are ignored by encoding/xml.
type entityDescriptor struct {
	XMLName  xml.Name
	EntityID string          `xml:"entityID,attr"`
	SPs      []ssoDescriptor `xml:"urn:oasis:names:tc:SAML:2.0:metadata SPSSODescriptor"`
	IdPs     []ssoDescriptor `xml:"urn:oasis:names:tc:SAML:2.0:metadata IDPSSODescriptor"`
}

// ssoDescriptor covers both SPSSODescriptor and IDPSSODescriptor: the
// elements that only one of them has stay empty in the other.
type ssoDescriptor struct {
	ProtocolSupportEnumeration string          `xml:"protocolSupportEnumeration,attr"`
	KeyDescriptors             []keyDescriptor `xml:"urn:oasis:names:tc:SAML:2.0:metadata KeyDescriptor"`
	AssertionConsumerServices  []endpoint      `xml:"urn:oasis:names:tc:SAML:2.0:metadata AssertionConsumerService"`
	SingleSignOnServices       []endpoint      `xml:"urn:oasis:names:tc:SAML:2.0:metadata SingleSignOnService"`
}

type endpoint struct {
	Binding   string `xml:"Binding,attr"`
	Location  string `xml:"Location,attr"`
	Index     string `xml:"index,attr"`
	IsDefault string `xml:"isDefault,attr"`
}

type keyDescriptor struct {
	Use     string  `xml:"use,attr"`
	KeyInfo keyInfo `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo"`
}

type keyInfo struct {
	X509Data []x509Data `xml:"http://www.w3.org/2000/09/xmldsig# X509Data"`
}

type x509Data struct {
	Certificates []string `xml:"http://www.w3.org/2000/09/xmldsig# X509Certificate"`
}

// supportsSAML20 reports whether a protocolSupportEnumeration attribute (a
// space-separated list of URIs) names SAML 2.0.
func supportsSAML20(enumeration string) bool {
	for _, p := range strings.Fields(enumeration) {
		if p == protocolSAML20 {
			return true
		}
	}
	return false
}

// decodeEntityDescriptor reads a metadata document safely: size limit, UTF-8
// only, no DOCTYPE or other directives anywhere, exactly one root element,
// which must be a SAML 2.0 EntityDescriptor. fix is the advice appended to
// every error.
func decodeEntityDescriptor(data []byte, what, fix string) (entityDescriptor, error) {
	var ed entityDescriptor
	if len(data) > MaxMetadataSize {
		return ed, &Error{ErrTooLarge, fmt.Sprintf("the %s is %d bytes; at most %d bytes (64 KiB) are accepted", what, len(data), MaxMetadataSize), fix}
	}
	// Windows tools (and some Entra downloads) start the file with a UTF-8
	// byte order mark, which encoding/xml does not skip.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return ed, &Error{ErrMalformedXML, fmt.Sprintf("the %s is empty", what), fix}
	}

	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	// No CharsetReader: a document that declares an encoding other than
	// UTF-8 is refused rather than converted.
	seenRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ed, &Error{ErrMalformedXML, fmt.Sprintf("the %s is not well-formed XML (%v)", what, err), fix}
		}
		switch t := tok.(type) {
		case xml.Directive:
			// <!DOCTYPE ...> and friends. encoding/xml would not expand
			// external entities anyway, but no genuine metadata has a
			// DOCTYPE, and refusing it outright removes XXE and
			// entity-expansion ("billion laughs") attacks from the question.
			return ed, &Error{ErrUnsafeXML, fmt.Sprintf("the %s contains a DOCTYPE or other <!...> declaration, which genuine metadata never has and is refused for safety", what), fix}
		case xml.ProcInst:
			if t.Target != "xml" || seenRoot {
				return ed, &Error{ErrMalformedXML, fmt.Sprintf("the %s contains an unexpected processing instruction <?%s ...?>", what, t.Target), fix}
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return ed, &Error{ErrMalformedXML, fmt.Sprintf("the %s has text outside its root element", what), fix}
			}
		case xml.Comment:
			// Harmless.
		case xml.StartElement:
			if seenRoot {
				return ed, &Error{ErrMalformedXML, fmt.Sprintf("the %s has more than one root element", what), fix}
			}
			seenRoot = true
			if t.Name.Space != nsMetadata || t.Name.Local != "EntityDescriptor" {
				return ed, &Error{ErrNotMetadata, fmt.Sprintf("the %s's root element is <%s> (namespace %s), not a SAML 2.0 metadata <EntityDescriptor>", what, t.Name.Local, quote(t.Name.Space)), fix}
			}
			if err := dec.DecodeElement(&ed, &t); err != nil {
				return ed, &Error{ErrMalformedXML, fmt.Sprintf("the %s is not well-formed XML (%v)", what, err), fix}
			}
		default:
			// EndElement cannot appear here: the decoder refuses an
			// unmatched end tag, and DecodeElement consumes the root's.
			return ed, &Error{ErrMalformedXML, fmt.Sprintf("the %s has unexpected content outside its root element", what), fix}
		}
	}
	if !seenRoot {
		return ed, &Error{ErrMalformedXML, fmt.Sprintf("the %s has no root element", what), fix}
	}
	return ed, nil
}
