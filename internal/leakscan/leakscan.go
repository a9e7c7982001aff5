// Package leakscan finds secrets in text a person or a log collector can
// read (workflow history, logs, outputs, messages) in every form they can
// take there: as they are, JSON-escaped (any character as \uXXXX, as Go's
// encoder writes &, < and >), URL-encoded, in base64 (standard and URL
// alphabets, at each of the three offsets a secret can have inside a larger
// encoded blob, and of the JSON string that holds it), in hex, and any
// piece of at least MinLength characters of any of those.
//
// The text is searched as it is, with its JSON escapes undone and with its
// percent-encoding undone, so an escape of any character is found without
// listing every way to write it.
package leakscan

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MinLength is the shortest piece of a secret (or of one of its encodings)
// that counts as a leak: shorter pieces of random text turn up by chance,
// and a secret shorter than this is refused.
const MinLength = 16

// Find returns, sorted, where each secret (name -> value) shows in the
// places (name -> text), in which form: "the SCIM token (base64, offset 1)
// in the worker's log". Nothing found is nil.
func Find(places, secrets map[string]string) []string {
	var leaks []string
	for secretName, secret := range secrets {
		if len(secret) < MinLength {
			leaks = append(leaks, fmt.Sprintf("%s is shorter than %d characters: too short to search for safely", secretName, MinLength))
			continue
		}
		pieces := piecesOf(secret)
		for placeName, text := range places {
			for _, view := range views(text) {
				if form, ok := findPiece(view.text, pieces); ok {
					leaks = append(leaks, fmt.Sprintf("%s (%s%s) in %s", secretName, form, view.note, placeName))
					break
				}
			}
		}
	}
	slices.Sort(leaks)
	return leaks
}

// Form is an encoding of a secret that Find searches for.
type Form struct {
	Name, Text string
}

// Forms are the encodings of secret that Find searches for, the secret as
// it is first (a piece two forms share is named by the first).
func Forms(secret string) []Form {
	raw := []byte(secret)
	jsonString, _ := json.Marshal(secret) // a string always marshals
	forms := []Form{
		{"plain", secret},
		{"JSON-escaped", string(jsonString[1 : len(jsonString)-1])},
		{"Go-quoted", strings.Trim(strconv.Quote(secret), `"`)},
		{"URL-encoded", url.QueryEscape(secret)},
		{"path-encoded", url.PathEscape(secret)},
		{"hex", hex.EncodeToString(raw)},
		{"hex (upper)", strings.ToUpper(hex.EncodeToString(raw))},
	}
	// base64 of the secret and of the JSON string that holds it (a payload
	// is JSON, then base64 in the CLI's output), at each offset the secret
	// can start at inside a larger blob; the last group depends on what
	// follows, so it is left out.
	for _, blob := range []struct{ name, text string }{{"", secret}, {" of JSON", string(jsonString)}} {
		for offset := range 3 {
			padded := strings.Repeat("\x00", offset) + blob.text
			for _, enc := range []struct {
				name string
				enc  *base64.Encoding
			}{{"base64", base64.StdEncoding}, {"base64url", base64.URLEncoding}} {
				full := enc.enc.EncodeToString([]byte(padded))
				// Skip the groups that hold the padding bytes, and the last.
				start := 4 * ((offset + 2) / 3)
				end := len(full) - 4
				if end-start >= MinLength {
					forms = append(forms, Form{fmt.Sprintf("%s%s, offset %d", enc.name, blob.name, offset), full[start:end]})
				}
			}
		}
	}
	return forms
}

// pieces are the windows of MinLength characters of a secret's forms, each
// with the name of its form.
type pieces map[string]string

// piecesOf indexes every window of MinLength characters of every form.
func piecesOf(secret string) pieces {
	p := pieces{}
	for _, form := range Forms(secret) {
		for i := 0; i+MinLength <= len(form.Text); i++ {
			if _, seen := p[form.Text[i:i+MinLength]]; !seen {
				p[form.Text[i:i+MinLength]] = form.Name
			}
		}
	}
	return p
}

// findPiece reports whether any window of text is a piece, and its form.
func findPiece(text string, p pieces) (string, bool) {
	for i := 0; i+MinLength <= len(text); i++ {
		if form, ok := p[text[i:i+MinLength]]; ok {
			return form, true
		}
	}
	return "", false
}

// view is a way to read a text.
type view struct {
	text, note string
}

// views are text as it is and with its escapes undone: JSON's \uXXXX and
// backslash escapes, and percent-encoding.
func views(text string) []view {
	out := []view{{text: text}}
	if unescaped := unescapeJSON(text); unescaped != text {
		out = append(out, view{unescaped, ", once JSON escapes are undone"})
	}
	if decoded := unescapePercent(text); decoded != text {
		out = append(out, view{decoded, ", once percent-encoding is undone"})
	}
	return out
}

var percentEscape = regexp.MustCompile(`%[0-9a-fA-F]{2}`)

// unescapePercent undoes percent-encoding wherever it is in text; a stray
// "%" stays as it is.
func unescapePercent(text string) string {
	return percentEscape.ReplaceAllStringFunc(text, func(esc string) string {
		b, _ := strconv.ParseUint(esc[1:], 16, 8)
		return string([]byte{byte(b)})
	})
}

var jsonEscape = regexp.MustCompile(`\\(u[0-9a-fA-F]{4}|["\\/bfnrt])`)

// unescapeJSON undoes JSON's escapes wherever they are in text, without
// needing text to be JSON (a log line, a quoted string in a message).
func unescapeJSON(text string) string {
	return jsonEscape.ReplaceAllStringFunc(text, func(esc string) string {
		switch esc[1] {
		case 'u':
			n, _ := strconv.ParseUint(esc[2:], 16, 16)
			return string(rune(n))
		case 'b':
			return "\b"
		case 'f':
			return "\f"
		case 'n':
			return "\n"
		case 'r':
			return "\r"
		case 't':
			return "\t"
		}
		return esc[1:] // \" \\ \/
	})
}
