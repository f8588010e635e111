// Package recog loads fingerprint rules written in Rapid7's recog XML format
// and matches banners, headers, titles, SNMP descriptions and other strings a
// network probe collects against them.
//
// A rule file (<fingerprints matches="http_header.server">) holds
// <fingerprint pattern="…"> rules; each names the parameters it yields
// (<param pos="0" name="hw.vendor" value="HP"/> for a constant,
// <param pos="1" name="os.version"/> for the first capture group) and carries
// <example> strings with the values they must give. Patterns are Ruby regular
// expressions; they are compiled with Go's regexp after the translation that
// keeps their meaning (^ and $ match at line ends as in Ruby; REG_ICASE,
// REG_MULTILINE and REG_DOT_NEWLINE become (?i) and (?s)).
//
// Besides rule directories (LoadDir), firmward ships its own rules for the
// device families of its sample inventories (Builtin): routers, cameras,
// smart-home hubs, locks, printers, NAS and industrial gateways.
//
// The package is pure: it imports the standard library only.
package recog

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Limits on rule files, so that a broken or hostile file cannot exhaust memory.
const (
	// MaxFileBytes is the largest rule file Parse accepts.
	MaxFileBytes = 32 << 20
	// MaxPatternBytes is the longest pattern a rule may have.
	MaxPatternBytes = 16 << 10
	// MaxInputBytes is how much of a matched string is looked at; longer
	// inputs (a banner, a title) are cut to it.
	MaxInputBytes = 64 << 10
)

// Param is one value a fingerprint yields: a constant (Pos 0, Value, which may
// name other params as {hw.vendor}) or the capture group Pos of the pattern.
type Param struct {
	Pos   int
	Name  string
	Value string
}

// Example is a string a fingerprint must match, with the params it must give.
type Example struct {
	Text string
	Want map[string]string
}

// Fingerprint is one rule of a Database.
type Fingerprint struct {
	Pattern     string
	Flags       []string
	Description string
	// Certainty is how sure a match is, 0 to 1 (the certainty attribute;
	// 1 when absent).
	Certainty float64
	Examples  []Example
	Params    []Param

	re *regexp.Regexp
}

// Database is one rule file: the fingerprints for one kind of string (its
// Matches key, such as "http_header.server" or "snmp.sys_description").
type Database struct {
	// Name is the file name the rules came from.
	Name         string
	Matches      string
	Protocol     string
	DatabaseType string
	// Preference ranks databases against each other (0 to 1; 0.5 when
	// absent).
	Preference   float64
	Fingerprints []Fingerprint
}

// Match is a fingerprint that matched a string.
type Match struct {
	// Database is the Matches key of the rule's database; File its file.
	Database    string
	File        string
	Description string
	Pattern     string
	// Certainty is the rule's certainty times the database's preference
	// weight, 0 to 1.
	Certainty float64
	Params    map[string]string
}

type xmlDB struct {
	Matches      string  `xml:"matches,attr"`
	Protocol     string  `xml:"protocol,attr"`
	DatabaseType string  `xml:"database_type,attr"`
	Preference   string  `xml:"preference,attr"`
	Rules        []xmlFP `xml:"fingerprint"`
}

type xmlFP struct {
	Pattern     string       `xml:"pattern,attr"`
	Flags       string       `xml:"flags,attr"`
	Certainty   string       `xml:"certainty,attr"`
	Description string       `xml:"description"`
	Examples    []xmlExample `xml:"example"`
	Params      []xmlParam   `xml:"param"`
}

type xmlExample struct {
	Attrs []xml.Attr `xml:",any,attr"`
	Text  string     `xml:",chardata"`
}

type xmlParam struct {
	Pos   string `xml:"pos,attr"`
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Parse reads one rule file; name is used in errors and in Match.File. It
// refuses files over MaxFileBytes, patterns Go cannot compile, params that
// name a capture group the pattern does not have, and base64 examples that do
// not decode; the error names the file and the rule.
func Parse(r io.Reader, name string) (*Database, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("recog: reading %s: %w", name, err)
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("recog: %s is larger than %d bytes", name, MaxFileBytes)
	}
	var x xmlDB
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("recog: %s is not a fingerprints XML file: %w", name, err)
	}
	db := &Database{Name: name, Matches: x.Matches, Protocol: x.Protocol, DatabaseType: x.DatabaseType, Preference: 0.5}
	if x.Preference != "" {
		p, err := strconv.ParseFloat(strings.TrimSpace(x.Preference), 64)
		if err != nil || p < 0 || p > 1 {
			return nil, fmt.Errorf("recog: %s: preference %q is not a number from 0 to 1", name, x.Preference)
		}
		db.Preference = p
	}
	for i, xf := range x.Rules {
		fp, err := compile(xf)
		if err != nil {
			return nil, fmt.Errorf("recog: %s: fingerprint %d (%q): %w", name, i+1, cutString(xf.Pattern, 80), err)
		}
		db.Fingerprints = append(db.Fingerprints, fp)
	}
	return db, nil
}

func compile(xf xmlFP) (Fingerprint, error) {
	fp := Fingerprint{Pattern: xf.Pattern, Description: strings.TrimSpace(xf.Description), Certainty: 1}
	if len(xf.Pattern) > MaxPatternBytes {
		return fp, fmt.Errorf("pattern longer than %d bytes", MaxPatternBytes)
	}
	if xf.Certainty != "" {
		c, err := strconv.ParseFloat(strings.TrimSpace(xf.Certainty), 64)
		if err != nil || c < 0 || c > 1 {
			return fp, fmt.Errorf("certainty %q is not a number from 0 to 1", xf.Certainty)
		}
		fp.Certainty = c
	}
	mode := "m" // Ruby's ^ and $ always match at line boundaries
	for f := range strings.SplitSeq(xf.Flags, ",") {
		f = strings.TrimSpace(f)
		switch f {
		case "":
			continue
		case "REG_ICASE":
			mode += "i"
		case "REG_MULTILINE", "REG_DOT_NEWLINE", "REG_LINE_ANY_CRLF":
			mode += "s"
		default:
			return fp, fmt.Errorf("unknown flag %q", f)
		}
		fp.Flags = append(fp.Flags, f)
	}
	re, err := regexp.Compile("(?" + mode + ")" + translate(xf.Pattern))
	if err != nil {
		return fp, fmt.Errorf("pattern does not compile: %w", err)
	}
	fp.re = re
	for _, xp := range xf.Params {
		pos, err := strconv.Atoi(strings.TrimSpace(xp.Pos))
		if err != nil || pos < 0 {
			return fp, fmt.Errorf("param %q: pos %q is not a whole number", xp.Name, xp.Pos)
		}
		if pos > re.NumSubexp() {
			return fp, fmt.Errorf("param %q: pos %d but the pattern has %d groups", xp.Name, pos, re.NumSubexp())
		}
		if xp.Name == "" {
			return fp, errors.New("param without a name")
		}
		fp.Params = append(fp.Params, Param{Pos: pos, Name: xp.Name, Value: xp.Value})
	}
	for _, xe := range xf.Examples {
		ex := Example{Text: xe.Text, Want: map[string]string{}}
		for _, a := range xe.Attrs {
			switch a.Name.Local {
			case "_encoding":
				if a.Value != "base64" {
					return fp, fmt.Errorf("example encoding %q is not base64", a.Value)
				}
			case "_filename", "":
			default:
				ex.Want[a.Name.Local] = a.Value
			}
		}
		if slices.ContainsFunc(xe.Attrs, func(a xml.Attr) bool { return a.Name.Local == "_encoding" }) {
			raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(xe.Text), ""))
			if err != nil {
				return fp, fmt.Errorf("base64 example does not decode: %w", err)
			}
			ex.Text = string(raw)
		}
		fp.Examples = append(fp.Examples, ex)
	}
	return fp, nil
}

// translate rewrites the few Ruby regexp constructs Go spells differently.
// \h (a hex digit in Ruby) becomes [0-9a-fA-F] and \Z (end of text before a
// final newline) becomes (?:\n?\z).
func translate(p string) string {
	if !strings.Contains(p, `\h`) && !strings.Contains(p, `\Z`) && !strings.Contains(p, `\H`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			switch p[i+1] {
			case 'h':
				b.WriteString(`[0-9a-fA-F]`)
				i++
				continue
			case 'H':
				b.WriteString(`[^0-9a-fA-F]`)
				i++
				continue
			case 'Z':
				b.WriteString(`(?:\n?\z)`)
				i++
				continue
			}
			b.WriteByte(p[i])
			b.WriteByte(p[i+1])
			i++
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// Match returns the params fp gives for s, or nil when it does not match.
func (fp *Fingerprint) Match(s string) map[string]string {
	if fp.re == nil {
		return nil
	}
	if len(s) > MaxInputBytes {
		s = s[:MaxInputBytes]
	}
	m := fp.re.FindStringSubmatchIndex(s)
	if m == nil {
		// Ruby matches these patterns byte by byte (NOENCODING): a \xNN
		// escape stands for one byte. Go reads \xNN as a code point, so
		// retry with every byte of a non-UTF-8 input taken as one code point.
		if isASCII(s) {
			return nil
		}
		s = latin1(s)
		if m = fp.re.FindStringSubmatchIndex(s); m == nil {
			return nil
		}
	}
	out := make(map[string]string, len(fp.Params))
	for _, p := range fp.Params {
		if p.Pos > 0 {
			if i := 2 * p.Pos; m[i] >= 0 {
				out[p.Name] = s[m[i]:m[i+1]]
			}
			continue
		}
		out[p.Name] = p.Value
	}
	for _, p := range fp.Params {
		if p.Pos == 0 && strings.Contains(p.Value, "{") {
			out[p.Name] = interpolate(p.Value, out)
		}
	}
	return out
}

var interpolation = regexp.MustCompile(`\{([\w.]+)\}`)

// interpolate replaces {name} in v by the value of param name; a name with no
// value is left as it is.
func interpolate(v string, params map[string]string) string {
	return interpolation.ReplaceAllStringFunc(v, func(ref string) string {
		if val, ok := params[ref[1:len(ref)-1]]; ok {
			return val
		}
		return ref
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// Verify checks every example of every fingerprint: it must match, and every
// param it names must come out with its value. It returns one error per
// failing example.
func (db *Database) Verify() []error {
	var errs []error
	for i := range db.Fingerprints {
		fp := &db.Fingerprints[i]
		for j, ex := range fp.Examples {
			got := fp.Match(ex.Text)
			if got == nil {
				errs = append(errs, fmt.Errorf("%s: fingerprint %q: example %d %q does not match", db.Name, fp.Description, j+1, cutString(ex.Text, 80)))
				continue
			}
			for _, k := range sortedKeys(ex.Want) {
				if got[k] != ex.Want[k] {
					errs = append(errs, fmt.Errorf("%s: fingerprint %q: example %d %q gives %s=%q, want %q",
						db.Name, fp.Description, j+1, cutString(ex.Text, 80), k, got[k], ex.Want[k]))
				}
			}
		}
	}
	return errs
}

// Set is the rule databases of one or more directories, by Matches key.
type Set struct {
	dbs map[string][]*Database
}

// NewSet returns a set of the databases given.
func NewSet(dbs ...*Database) *Set {
	s := &Set{dbs: map[string][]*Database{}}
	for _, db := range dbs {
		s.Add(db)
	}
	return s
}

// Add adds db; its rules are tried after those already in the set for the
// same Matches key. A database without a Matches key is kept for Verify but
// never matched.
func (s *Set) Add(db *Database) {
	s.dbs[db.Matches] = append(s.dbs[db.Matches], db)
}

// Databases returns every database of the set, by Matches key then file.
func (s *Set) Databases() []*Database {
	var out []*Database
	for _, k := range sortedKeys(s.dbs) {
		out = append(out, s.dbs[k]...)
	}
	return out
}

// Len returns how many fingerprints the set holds.
func (s *Set) Len() int {
	n := 0
	for _, dbs := range s.dbs {
		for _, db := range dbs {
			n += len(db.Fingerprints)
		}
	}
	return n
}

// Match returns every fingerprint of the databases for the key matches
// (such as "http_header.server") that matches s, in rule order. An empty
// key or string matches nothing.
func (s *Set) Match(matches, str string) []Match {
	if s == nil || matches == "" || str == "" {
		return nil
	}
	var out []Match
	for _, db := range s.dbs[matches] {
		for i := range db.Fingerprints {
			fp := &db.Fingerprints[i]
			params := fp.Match(str)
			if params == nil {
				continue
			}
			out = append(out, Match{
				Database: db.Matches, File: db.Name, Description: fp.Description, Pattern: fp.Pattern,
				Certainty: fp.Certainty * preferenceWeight(db.Preference), Params: params,
			})
		}
	}
	return out
}

// preferenceWeight turns a database preference (0 to 1) into a weight from
// 0.7 to 1, so that a low-preference database still counts.
func preferenceWeight(p float64) float64 { return 0.7 + 0.3*p }

// LoadFS reads every *.xml file of dir in fsys (not its subdirectories) into
// a Set. Files that are not fingerprint databases (such as an XSD schema)
// are refused by Parse; *.xsd files are skipped.
func LoadFS(fsys fs.FS, dir string) (*Set, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("recog: reading rule directory %s: %w", dir, err)
	}
	s := NewSet()
	var n int
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".xml" {
			continue
		}
		f, err := fsys.Open(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("recog: %w", err)
		}
		db, err := Parse(f, e.Name())
		_ = f.Close()
		if err != nil {
			return nil, err
		}
		s.Add(db)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("recog: no *.xml rule files in %s", dir)
	}
	return s, nil
}

// Merge adds every database of other to s.
func (s *Set) Merge(other *Set) {
	if other == nil {
		return
	}
	for _, db := range other.Databases() {
		s.Add(db)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
