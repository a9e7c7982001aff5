package secretstore

import (
	"fmt"
	"log/slog"
)

// Redacted is how a secret Value prints, formats, marshals and logs.
const Redacted = "[redacted]"

// Value is a secret's value (the SCIM token, the break-glass password). It
// prints, formats, marshals and logs as Redacted, so a value that ends up in
// a log line, an error, a result or JSON by mistake does not leak; the code
// that uses the secret calls Reveal at that moment.
type Value struct{ s string }

// NewValue wraps a secret's value.
func NewValue(s string) Value { return Value{s: s} }

// Reveal returns the value itself, for the one call that needs it.
func (v Value) Reveal() string { return v.s }

// IsZero reports whether there is no value.
func (v Value) IsZero() bool { return v.s == "" }

func (Value) String() string               { return Redacted }
func (Value) GoString() string             { return Redacted }
func (Value) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(Redacted)) }
func (Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }
func (Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
func (Value) LogValue() slog.Value         { return slog.StringValue(Redacted) }
