package leakscan

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A password as the break-glass generator makes them: about a third hold
// "&", which Go's JSON encoder writes as \u0026.
const password = `k7&Qz!p<9R>vW2#mX4"nL8\yT1`

func find(text string) []string {
	return Find(map[string]string{"the log": text}, map[string]string{"the password": password})
}

// The scanner finds every form it knows, and where it sits in a larger
// text; a leak test built on it can fail.
func TestFindFindsEveryForm(t *testing.T) {
	for _, form := range Forms(password) {
		require.NotEmpty(t, find("before "+form.Text+" after"), "the %s form", form.Name)
	}
	require.Equal(t, []string{"the password (plain) in the log"}, find("x"+password), "named by the first form that has the piece")
}

func TestFindFindsTheFormsOfTheIssue(t *testing.T) {
	jsonText, err := json.Marshal(map[string]string{"password": password})
	require.NoError(t, err)
	require.Contains(t, string(jsonText), `\u0026`, "Go escapes & in JSON")
	for name, text := range map[string]string{
		"Go's JSON, & as \\u0026":              string(jsonText),
		"every character as \\uXXXX":           everyCharEscaped(password),
		"JSON with \\/":                        strings.ReplaceAll(`{"p":"`+password+`"}`, "/", `\/`),
		"URL query":                            "https://example.com/?p=" + urlEncodeAll(password),
		"a prefix of 16 characters":            "token=" + password[:16],
		"a piece from the middle":              password[5:21],
		"base64 at offset 0":                   base64.StdEncoding.EncodeToString([]byte(password)),
		"base64 at offset 1":                   base64.StdEncoding.EncodeToString([]byte("x" + password + "tail")),
		"base64 at offset 2":                   base64.StdEncoding.EncodeToString([]byte("xy" + password + "tail")),
		"base64url at offset 1":                base64.URLEncoding.EncodeToString([]byte("x" + password)),
		"base64 of a JSON payload at offset 2": base64.StdEncoding.EncodeToString([]byte(`{"a":"` + string(jsonText) + `"}`)),
	} {
		require.NotEmpty(t, find(text), name)
	}
}

func TestFindFindsNothingInCleanText(t *testing.T) {
	require.Empty(t, find("a log line with nothing in it, k7&Qz!p<9R (a 10-character piece is chance)"))
	require.Empty(t, find(base64.StdEncoding.EncodeToString([]byte("nothing secret here at all, at any offset"))))
}

func TestFindRefusesASecretTooShortToSearch(t *testing.T) {
	leaks := Find(map[string]string{"x": "y"}, map[string]string{"the pin": "1234"})
	require.Len(t, leaks, 1)
	require.Contains(t, leaks[0], "too short")
}

func everyCharEscaped(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteString(`\u`)
		b.WriteString(strings.ToUpper(strings.TrimPrefix(hex4(r), "")))
	}
	return b.String()
}

func hex4(r rune) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[r>>12&15], digits[r>>8&15], digits[r>>4&15], digits[r&15]})
}

func urlEncodeAll(s string) string {
	var b strings.Builder
	for i := range len(s) {
		b.WriteString("%" + strings.ToUpper(hex4(rune(s[i]))[2:]))
	}
	return b.String()
}
