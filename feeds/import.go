package feeds

import (
	"context"
	"io"
	"strings"

	firmward "github.com/firmward/firmward"
)

// Stage parses a feed that Open has opened (format and reader as Open
// returned them) and stages every record in imp. It neither commits nor
// rolls back: the caller does, so that a file is imported whole or not at
// all. A bad record stops it with the parser's error, which names the
// record and the field; a cancelled ctx stops it too.
func Stage(ctx context.Context, format Format, rd io.Reader, imp firmward.FeedImport) error {
	var err error
	putVuln := func(v *firmward.Vulnerability) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return imp.PutVulnerability(ctx, StorageSource(v), v)
	}
	switch format {
	case FormatNVD11:
		err = ParseNVD11(rd, putVuln)
	case FormatNVD20:
		err = ParseNVD20(rd, putVuln)
	case FormatCVE5:
		err = ParseCVE5(rd, putVuln)
	case FormatCSAF:
		err = ParseCSAF(rd, putVuln)
	case FormatKEV:
		err = ParseKEV(rd, func(e *firmward.KEVEntry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return imp.PutKEV(ctx, e)
		})
	case FormatEPSS:
		err = ParseEPSS(rd, func(s firmward.EPSSScore) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return imp.PutEPSS(ctx, s)
		})
	default:
		err = firmward.Errorf(firmward.EINVALID, "unknown feed format %q; %s", format, acceptedFormats)
	}
	return err
}

// StorageSource returns the source under which a parsed record is stored:
// firmward.SourceNVD for both NVD formats (the newer record of a CVE wins,
// whichever format brought it), firmward.SourceCVE5, or "csaf:" and the
// advisory's tracking id.
func StorageSource(v *firmward.Vulnerability) string {
	if len(v.Sources) == 0 {
		return ""
	}
	s := v.Sources[0]
	if strings.HasPrefix(s, "nvd") {
		return firmward.SourceNVD
	}
	return s
}
