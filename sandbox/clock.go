package sandbox

import (
	"sync/atomic"
	"time"
)

// sandboxClock is the time the console, the SCIM endpoint and Secrets
// Manager see: Options.Clock (or time.Now) plus an offset tests move
// forward, so a year-long token can expire in a test that takes a second.
type sandboxClock struct {
	base   func() time.Time
	offset atomic.Int64 // nanoseconds
}

func newSandboxClock(base func() time.Time) *sandboxClock {
	if base == nil {
		base = time.Now
	}
	return &sandboxClock{base: base}
}

// now is the moved time.
func (c *sandboxClock) now() time.Time {
	return c.base().Add(time.Duration(c.offset.Load()))
}

// advance moves the clock forward by d and returns the new now.
func (c *sandboxClock) advance(d time.Duration) time.Time {
	c.offset.Add(int64(d))
	return c.now()
}
