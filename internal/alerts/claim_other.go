//go:build !unix

package alerts

// claim cannot hold a file where flock does not exist: two processes on one state
// directory there each keep their own view of what was sent.
func claim(string) (func(), error) { return func() {}, nil }
