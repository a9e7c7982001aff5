package app

import "runtime/debug"

// DefaultMemoryLimit is the worker's soft memory limit (the Go runtime's
// GOMEMLIMIT) when GOMEMLIMIT is not set: 160 MiB.
//
// The inventories of a 100,000-user organisation hold under 90 MB of heap
// at their peak and parse far more as they go; left to its default pace the
// garbage collector lets the heap and the memory it has not yet returned
// grow well past twice that. Under the limit it collects sooner and returns
// memory as the total nears 160 MiB, trading CPU (the worker mostly waits
// for paced API calls) for memory. The process's resident size adds the
// pages of its own binary (about 75 MiB of the Graph SDK's code and tables).
// The limit is soft: a worker that needs more (a far larger organisation)
// gets it, with more time spent collecting; set GOMEMLIMIT (for instance to
// 70% of a container's memory limit) to move it.
const DefaultMemoryLimit = 160 << 20

// ApplyMemoryLimit sets DefaultMemoryLimit unless GOMEMLIMIT is set (the
// runtime has applied it), and returns the limit in force, in bytes.
func ApplyMemoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
	return debug.SetMemoryLimit(-1) // -1 reads the limit without changing it
}
