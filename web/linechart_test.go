package web

import (
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

func TestNiceStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want int64 }{
		{0, 1}, {1, 1}, {2, 2}, {3, 5}, {6, 10}, {11, 20}, {21, 50}, {499, 500}, {501, 1000}, {1e12 + 1, 2e12},
	} {
		if got := niceStep(tc.in); got != tc.want {
			t.Errorf("niceStep(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestNewLineChart(t *testing.T) {
	t.Parallel()
	days := func(counts ...int64) []firmward.DayCount {
		out := make([]firmward.DayCount, len(counts))
		for i, n := range counts {
			out[i] = firmward.DayCount{Day: "2025-03-" + string(rune('1'+i/10)) + string(rune('0'+i%10)), Count: n}
		}
		return out
	}
	tests := []struct {
		name   string
		days   []firmward.DayCount
		yTicks []string
		xTicks int
	}{
		{"all zero", days(0, 0, 0), []string{"0", "1"}, 3},
		{"one day", days(7), []string{"0", "2", "4", "6", "8"}, 1},
		{"rising", days(0, 3, 9, 14, 21, 37, 38), []string{"0", "10", "20", "30", "40"}, 5},
		{"large", days(12345, 0), []string{"0", "5000", "10000", "15000"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newLineChart("x", "Overdue", "finding", tc.days)
			var ticks []string
			for _, y := range c.YTicks {
				ticks = append(ticks, y.Text)
				if y.Pos < c.Top || y.Pos > c.Bottom {
					t.Errorf("y tick %s at %d outside %d..%d", y.Text, y.Pos, c.Top, c.Bottom)
				}
			}
			if strings.Join(ticks, ",") != strings.Join(tc.yTicks, ",") {
				t.Errorf("y ticks %v, want %v", ticks, tc.yTicks)
			}
			if len(c.XTicks) != tc.xTicks || len(c.Points) != len(tc.days) {
				t.Errorf("%d x ticks, %d points", len(c.XTicks), len(c.Points))
			}
			for i, p := range c.Points {
				if p.X < c.Left || p.X > c.Right || p.Y < c.Top || p.Y > c.Bottom {
					t.Errorf("point %d (%d,%d) outside the plot", i, p.X, p.Y)
				}
				if i > 0 && p.X <= c.Points[i-1].X {
					t.Errorf("point %d not right of the one before", i)
				}
				if p.Count == 0 && p.Y != c.Bottom {
					t.Errorf("zero count at y %d, want the axis %d", p.Y, c.Bottom)
				}
			}
			if last := c.Points[len(c.Points)-1]; last.X != c.Right {
				t.Errorf("last point at x %d, want %d", last.X, c.Right)
			}
			if !strings.HasPrefix(c.Label, "Overdue: ") || !strings.Contains(c.Area, c.Line) {
				t.Errorf("label %q, area %q", c.Label, c.Area)
			}
		})
	}
}
