package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// lineChart is a line-and-area chart of one count per day, drawn as SVG by
// the template (templates/risk.html, "linechart") with its axes, grid and
// labels. Geometry is computed here in viewBox units, like chart's.
type lineChart struct {
	ID, Title string
	Unit      string // what is counted, singular
	Label     string // the whole chart in words, for screen readers
	Width     int
	Height    int
	Left      int // x of the y axis
	Right     int // x of the last point
	Top       int // y of the highest grid line
	Bottom    int // y of the x axis (count 0)
	YLabelX   int // right edge of the y labels
	XTickEnd  int // y where the x axis ticks end
	XLabelY   int // baseline of the x labels
	Line      string
	Area      string
	YTicks    []lineTick
	XTicks    []lineTick
	Points    []linePoint
}

// lineTick is one axis label: its position on its axis, the baseline of
// its text (y labels), the text and how the text is anchored at Pos (x
// labels: "middle", "end" for the last so that it stays inside).
type lineTick struct {
	Pos, TextY int
	Text       string
	Anchor     string
}

// linePoint is one day of a lineChart.
type linePoint struct {
	X, Y  int
	Day   string // e.g. "14 Mar 2025"
	Count int64
}

// Line chart geometry, in viewBox units.
const (
	lineWidth  = 420
	lineHeight = 220
	lineLeft   = 44 // room for the y labels
	lineRight  = 12 // room after the last point
	lineTop    = 12 // room above the highest grid line
	lineBottom = 34 // room for the x labels
	lineXTicks = 5  // at most this many x labels
	lineYSteps = 4  // at most this many intervals on the y axis
)

// niceStep returns the smallest of 1, 2, 5, 10, 20, 50, … that is at
// least x.
func niceStep(x int64) int64 {
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= x {
				return m * p
			}
		}
		if p > 1e17 {
			return p * 10
		}
	}
}

// newLineChart lays out days as a line over an area, scaled to a round
// maximum, with at most lineYSteps+1 y labels and lineXTicks x labels.
func newLineChart(id, title, unit string, days []firmward.DayCount) lineChart {
	c := lineChart{
		ID: id, Title: title, Unit: unit, Width: lineWidth, Height: lineHeight,
		Left: lineLeft, Right: lineWidth - lineRight, Top: lineTop, Bottom: lineHeight - lineBottom,
	}
	c.YLabelX, c.XTickEnd, c.XLabelY = c.Left-6, c.Bottom+4, c.Bottom+20
	var top int64
	for _, d := range days {
		top = max(top, d.Count)
	}
	step := niceStep(max(1, (top+lineYSteps-1)/lineYSteps))
	ymax := step * max(1, (top+step-1)/step)
	plotH := c.Bottom - c.Top
	plotW := c.Right - c.Left
	for v := int64(0); v <= ymax; v += step {
		y := c.Bottom - int(int64(plotH)*v/ymax)
		c.YTicks = append(c.YTicks, lineTick{Pos: y, TextY: y + 4, Text: strconv.FormatInt(v, 10)})
	}
	n := len(days)
	xOf := func(i int) int {
		if n == 1 {
			return c.Right
		}
		return c.Left + plotW*i/(n-1)
	}
	var line, words []string
	for i, d := range days {
		p := linePoint{X: xOf(i), Y: c.Bottom - int(int64(plotH)*d.Count/ymax), Count: d.Count, Day: d.Day}
		if t, err := time.Parse(time.DateOnly, d.Day); err == nil {
			p.Day = t.Format("2 Jan 2006")
		}
		c.Points = append(c.Points, p)
		line = append(line, fmt.Sprintf("%d,%d", p.X, p.Y))
		words = append(words, fmt.Sprintf("%s %d", p.Day, d.Count))
	}
	if n > 0 {
		c.Line = strings.Join(line, " ")
		c.Area = fmt.Sprintf("%d,%d %s %d,%d", c.Points[0].X, c.Bottom, c.Line, c.Points[n-1].X, c.Bottom)
		// X labels: the first and last day and evenly spaced ones between.
		labels := min(n, lineXTicks)
		for k := range labels {
			i := 0
			if labels > 1 {
				i = k * (n - 1) / (labels - 1)
			}
			text := days[i].Day
			if t, err := time.Parse(time.DateOnly, text); err == nil {
				text = t.Format("2 Jan")
			}
			anchor := "middle"
			if i == n-1 {
				anchor = "end"
			}
			c.XTicks = append(c.XTicks, lineTick{Pos: xOf(i), Text: text, Anchor: anchor})
		}
	}
	c.Label = title + ": " + strings.Join(words, ", ")
	return c
}
