package tufrepo

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/firmward/firmward"
)

// MaxTargetNameLen bounds a target name.
const MaxTargetNameLen = 512

// ValidTargetName returns nil when name can be a TUF target path here:
// slash-separated segments, none empty, "." or "..", no backslash, no
// leading slash, printable UTF-8 without spaces, at most MaxTargetNameLen
// bytes; for example releases/12/router-1.2.bin. Other names give EINVALID
// saying why. The rule keeps names usable as URL paths and file names on
// every client.
func ValidTargetName(name string) error {
	bad := func(why string) error {
		shown := name
		if len(shown) > 80 {
			shown = shown[:80] + "…"
		}
		return firmward.Errorf(firmward.EINVALID, "target name %q %s", shown, why)
	}
	switch {
	case name == "":
		return firmward.Errorf(firmward.EINVALID, "target name is empty")
	case len(name) > MaxTargetNameLen:
		return bad("is longer than 512 bytes")
	case !utf8.ValidString(name):
		return bad("is not valid UTF-8")
	case strings.HasPrefix(name, "/"):
		return bad("starts with a slash; names are relative, such as releases/12/image.bin")
	case strings.ContainsRune(name, '\\'):
		return bad("holds a backslash; separate segments with /")
	}
	for _, r := range name {
		if r == ' ' || !unicode.IsPrint(r) || r == '%' || r == '?' || r == '#' {
			return bad("holds a space, a control character or one of % ? #")
		}
	}
	for seg := range strings.SplitSeq(name, "/") {
		switch seg {
		case "":
			return bad("has an empty segment (// or a trailing /)")
		case ".", "..":
			return bad("has a . or .. segment")
		}
	}
	return nil
}

// ReleaseTargetName returns the target name of an artifact of a release:
// releases/ID/FILENAME. The file name must be one segment.
func ReleaseTargetName(releaseID int64, filename string) (string, error) {
	if releaseID <= 0 {
		return "", firmward.Errorf(firmward.EINVALID, "release id %d is not positive", releaseID)
	}
	if strings.Contains(filename, "/") {
		return "", firmward.Errorf(firmward.EINVALID, "artifact file name %q holds a slash", filename)
	}
	name := "releases/" + itoa(releaseID) + "/" + filename
	if err := ValidTargetName(name); err != nil {
		return "", err
	}
	return name, nil
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
