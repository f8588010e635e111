package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// chart is a horizontal bar chart drawn as SVG by the template
// (templates/layout.html, "barchart"). Geometry is computed here, in
// viewBox units; the SVG is drawn at its natural size and shrinks to fit
// narrow screens.
type chart struct {
	ID     string // element id prefix
	Title  string
	Unit   string // what a bar counts, singular: "device", "finding"
	Label  string // the whole chart in words, for screen readers
	Width  int
	Height int
	LabelX int // right edge of the labels
	BarX   int // left edge of the bars
	BarMax int // width of a full bar
	BarH   int
	Bars   []chartBar
}

// chartBar is one row of a chart.
type chartBar struct {
	Label  string // full, for the tooltip
	Short  string // drawn beside the bar
	Count  int64
	Class  string // CSS class giving the colour
	BarY   int
	TextY  int // baseline of the label and the count
	W      int
	CountX int
}

// chartRow is one value to draw.
type chartRow struct {
	Key   string // enum value; also the CSS class suffix
	Label string
	Short string
	Count int64
}

// Chart geometry, in viewBox units (CSS pixels at natural size).
const (
	chartWidth  = 420
	chartLabelX = 122
	chartBarX   = 132
	chartRowH   = 30
	chartBarH   = 20
	chartPad    = 4
)

// newChart lays out rows as bars, scaled to the largest count, leaving
// room after the longest bar for its count. classPrefix plus each row's key
// names its colour class.
func newChart(id, title, classPrefix string, rows []chartRow) chart {
	var top int64
	for _, r := range rows {
		top = max(top, r.Count)
	}
	countRoom := 12 + 9*len(strconv.FormatInt(top, 10))
	c := chart{
		ID: id, Title: title, Unit: "device", Width: chartWidth,
		LabelX: chartLabelX, BarX: chartBarX, BarMax: chartWidth - chartBarX - countRoom, BarH: chartBarH,
		Height: len(rows)*chartRowH + 2*chartPad,
	}
	words := make([]string, 0, len(rows))
	for i, r := range rows {
		y := chartPad + i*chartRowH + (chartRowH-chartBarH)/2
		b := chartBar{
			Label: r.Label, Short: r.Short, Count: r.Count, Class: classPrefix + r.Key,
			BarY: y, TextY: y + chartBarH/2 + 5,
		}
		if top > 0 && r.Count > 0 {
			b.W = max(3, int(int64(c.BarMax)*r.Count/top))
		}
		b.CountX = chartBarX + b.W + 6
		c.Bars = append(c.Bars, b)
		words = append(words, fmt.Sprintf("%s %d", r.Label, r.Count))
	}
	c.Label = title + ": " + strings.Join(words, ", ")
	return c
}

// chartRows turns a count map into rows: every known value in order (zero
// counts included, so that charts keep their shape), then any other keys
// the store reported, sorted.
func chartRows[T ~string](counts map[string]int64, known []T) []chartRow {
	rows := make([]chartRow, 0, len(known)+len(counts))
	seen := make(map[string]bool, len(known))
	for _, k := range known {
		seen[string(k)] = true
		rows = append(rows, chartRow{Key: string(k), Label: label(k), Short: shortLabel(string(k)), Count: counts[string(k)]})
	}
	var extra []string
	for k := range counts {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		rows = append(rows, chartRow{Key: "other", Label: label(k), Short: shortLabel(k), Count: counts[k]})
	}
	return rows
}

// shortLabel names an enum value in few enough letters to fit beside a bar.
func shortLabel(key string) string {
	switch key {
	case "consumer-smart-home":
		return "Smart home"
	case "network-infrastructure":
		return "Network"
	case "agent":
		return "firmward agent"
	case "ddi":
		return "DDI client"
	case "vendor-cloud":
		return "Vendor cloud"
	case "web-admin":
		return "Web admin"
	case "none":
		return "Not updatable"
	}
	s := label(key)
	if len(s) > 16 {
		s = s[:15] + "…"
	}
	return s
}
