//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package tufrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/firmward/firmward"
)

// lockWait bounds how long a writer waits for another process's lock.
const lockWait = 30 * time.Second

// lockDir takes an exclusive flock on DIR/.lock, polling until ctx ends or
// lockWait passes. It returns the function that releases it.
func lockDir(ctx context.Context, dir string) (func(), error) {
	p := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the repository lock: %w", err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) //nolint:gosec // a file descriptor fits an int
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:gosec // as above
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", p, err)
		}
		if time.Now().After(deadline) {
			_ = f.Close()
			return nil, firmward.Errorf(firmward.ECONFLICT, "%s is locked by another process for more than %s", p, lockWait)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
