// Package e2e runs the cutover the way its users do: the worker and starter
// binaries, a real Temporal dev server (SQLite), the sandbox behind the real
// SDK clients, and the temporal CLI for signals. It holds only tests and the
// scale benchmark.
package e2e
