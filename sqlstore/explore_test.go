package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pgCPU sums utime+stime of every postgres process, in clock ticks (10ms).
func pgCPU() time.Duration {
	var total int64
	ds, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range ds {
		comm, _ := os.ReadFile(d + "/comm")
		if !strings.HasPrefix(string(comm), "postgres") {
			continue
		}
		b, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += u + st
	}
	return time.Duration(total) * 10 * time.Millisecond
}

func TestExplore(t *testing.T) {
	for _, be := range backends {
		for range 2 {
			db := be.open(t, Options{})
			rows := benchRows(100000)
			ctx := context.Background()
			c0, p0, w0 := cpuTime(), pgCPU(), time.Now()
			if _, err := NewDeviceService(db).ImportDevices(ctx, rows, firmward.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			fmt.Printf("%s wall=%v cpu=%v pg=%v\n", be.name, time.Since(w0), cpuTime()-c0, pgCPU()-p0)
			db.Close()
		}
	}
}
