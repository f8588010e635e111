//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package tufrepo

import "context"

// lockDir is a no-op where flock is missing: there, only one process may
// write a repository at a time (the Repo's mutex still serialises the calls
// of one process).
func lockDir(ctx context.Context, _ string) (func(), error) {
	return func() {}, ctx.Err()
}
