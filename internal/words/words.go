// Package words spells counts and one-line texts the same way in every
// message a person reads: status, gate instructions, errors, reports.
package words

import (
	"fmt"
	"strings"
)

// Count says "1 user", "2 users".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// OneLine folds text, a person's included, onto one line.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// OrDash is s, or "-" when s is empty (a table cell).
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
