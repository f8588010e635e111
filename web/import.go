package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/inventory"
)

// maxEchoBytes is the largest CSV put back into the text box after a
// refused import, so that the user can correct it in place.
const maxEchoBytes = 256 << 10

// importView is the data of the import page.
type importView struct {
	Columns  []column // with something to say about them
	Text     []string // free-text columns
	Example  string
	CSV      string // the text to show in the box
	DryRun   bool
	FileName string // the uploaded file, if any
	Echoed   bool   // the uploaded file's text was put into the box

	Failed  bool // the import was refused: nothing was stored
	Message string
	Details []firmward.ErrorDetail
	Result  *firmward.ImportResult // a successful dry run
}

// column describes one accepted CSV column.
type column struct {
	Name, Help string
	Required   bool
}

// strs returns enum values as strings.
func strs[T ~string](values []T) string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return strings.Join(out, ", ")
}

// importColumns lists inventory.Columns: those with rules, with what each
// holds, and the free-text ones.
func importColumns() ([]column, []string) {
	help := map[string]string{
		"name":             "what you call the device",
		"firmware_version": "leave empty when unknown",
		"category":         "one of " + strs(firmward.Categories) + " (default other)",
		"criticality":      "one of " + strs(firmward.Criticalities) + " (default medium)",
		"exposure":         "one of " + strs(firmward.Exposures) + " (default internal)",
		"update_mechanism": "one of " + strs(firmward.UpdateMechanisms) + "; empty when unknown",
		"auto_update":      "one of " + strs(firmward.AutoUpdates),
		"mac":              "MAC addresses separated by ;",
		"ip":               "IP addresses separated by ;",
		"tags":             "tags separated by ;",
		"cpe":              "CPE 2.3 name",
		"eol_date":         "end of support, YYYY-MM-DD",
		"purchase_date":    "YYYY-MM-DD",
		"replacement_cost": "a number",
		"source":           "one of " + strs(firmward.Sources) + " (default import)",
		"first_seen":       "RFC 3339 time",
		"last_seen":        "RFC 3339 time",
	}
	var cols []column
	var text []string
	for _, c := range inventory.Columns {
		if h, ok := help[c]; ok {
			cols = append(cols, column{Name: c, Help: h, Required: c == "name"})
		} else {
			text = append(text, c)
		}
	}
	return cols, text
}

const importExample = `name,manufacturer,model,firmware_version,category,criticality,exposure,update_mechanism,mac,ip,location
Home router,Netgear,RAX40,1.0.4.120,network-infrastructure,high,internet-facing,web-admin,a0:40:a0:11:22:33,192.168.1.1,Hallway
Front door lock,Nuki,Smart Lock 3.0,,lock,high,internal,vendor-cloud,,,Front door`

func newImportView() importView {
	cols, text := importColumns()
	return importView{Columns: cols, Text: text, Example: importExample}
}

func (h *Handler) importPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.render(w, r, s, http.StatusOK, "import", view{Title: "Import devices", Nav: "import", Page: newImportView()})
}

// importDevices imports an uploaded or pasted CSV file: all rows or none.
func (h *Handler) importDevices(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	v := newImportView()
	v.DryRun = r.PostFormValue("dry_run") != ""
	data, name, err := uploadedCSV(r)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	v.FileName = name
	if len(data) <= maxEchoBytes && utf8.Valid(data) {
		v.CSV = string(data)
		v.Echoed = name != ""
	}
	refuse := func(err error) {
		switch firmward.ErrorCode(err) {
		case firmward.EINVALID, firmward.ECONFLICT, firmward.ETOOLARGE:
		default:
			h.serverError(w, r, s, err)
			return
		}
		v.Failed, v.Message, v.Details = true, firmward.ErrorMessage(err), firmward.ErrorDetails(err)
		h.render(w, r, s, http.StatusUnprocessableEntity, "import", view{Title: "Import refused", Nav: "import", Page: v})
	}
	if len(bytes.TrimSpace(data)) == 0 {
		refuse(firmward.Errorf(firmward.EINVALID, "Choose a CSV file or paste its contents into the box."))
		return
	}
	rows, err := inventory.ReadCSV(bytes.NewReader(data))
	if err != nil {
		refuse(err)
		return
	}
	if len(rows) == 0 {
		refuse(firmward.Errorf(firmward.EINVALID, "The file has a header row but no devices."))
		return
	}
	res, err := h.devices.ImportDevices(ctx, rows, firmward.ImportOptions{DryRun: v.DryRun})
	if err != nil {
		refuse(err)
		return
	}
	if res.DryRun || v.DryRun {
		v.Result = res
		h.render(w, r, s, http.StatusOK, "import", view{Title: "Import checked", Nav: "import", Page: v})
		return
	}
	h.log.InfoContext(ctx, "web: devices imported", "created", res.Created, "token", s.token.ID)
	h.flash(w, fmt.Sprintf("Imported %s. Nothing else changed.", plural(res.Created, "device")))
	target := "/devices"
	if len(res.IDs) > 0 {
		// The list is ordered by ID: start it at the first new device.
		target = fmt.Sprintf("/devices?after=%d", slices.Min(res.IDs)-1)
	}
	http.Redirect(w, r, target, http.StatusSeeOther) //nolint:gosec // G710: a local path built from IDs
}

// uploadedCSV returns the uploaded file, or else the pasted text, and the
// file's name ("" for pasted text).
func uploadedCSV(r *http.Request) ([]byte, string, error) {
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			f, err := fhs[0].Open()
			if err != nil {
				return nil, "", fmt.Errorf("opening upload: %w", err)
			}
			defer f.Close() //nolint:errcheck // read only
			b, err := io.ReadAll(f)
			if err != nil {
				return nil, "", fmt.Errorf("reading upload: %w", err)
			}
			return b, fhs[0].Filename, nil
		}
	}
	return []byte(r.PostFormValue("csv")), "", nil
}
