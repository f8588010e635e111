package discovery

import "syscall"

// errConnRefused is what a live host without a listener answers.
var errConnRefused = syscall.ECONNREFUSED
