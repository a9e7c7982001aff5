package sandbox

// GraphOptions configure the Microsoft half of the sandbox.
type GraphOptions struct {
}
