package sqlstore

import (
	"context"
	"fmt"
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

func TestExplore(t *testing.T) {
	for _, be := range backends {
		for _, per := range []int{1, 20, 100, 500, 1000} {
			db := be.open(t, Options{})
			rows := benchRows(100000)
			devs := make([]*firmward.Device, len(rows))
			for i := range rows {
				rows[i].Device.Normalize()
				rows[i].Device.ID = int64(i + 1)
				rows[i].Device.Source = "import"
				devs[i] = &rows[i].Device
			}
			ctx := context.Background()
			c0, w0 := cpuTime(), time.Now()
			err := db.write(ctx, func(tx conn) error {
				cols := len(writeDeviceColumns)
				head := "INSERT INTO devices (" + strings.Join(writeDeviceColumns, ", ") + ") VALUES "
				st, err := tx.prepare(ctx, head+placeholders(per, cols))
				if err != nil {
					return err
				}
				defer st.Close()
				args := make([]any, 0, per*cols)
				for s := 0; s < len(devs); s += per {
					args = args[:0]
					for i := s; i < s+per; i++ {
						args = deviceArgs(args, devs[i])
					}
					if _, err := st.ExecContext(ctx, args...); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Printf("%s per=%d wall=%v cpu=%v\n", be.name, per, time.Since(w0), cpuTime()-c0)
			db.Close()
		}
	}
}
