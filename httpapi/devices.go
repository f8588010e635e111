package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/inventory"
)

// DeviceList is one page of devices; NextCursor is "" on the last page.
type DeviceList struct {
	Devices    []*firmward.Device `json:"devices"`
	NextCursor string             `json:"next_cursor"`
}

// deviceFilter reads the filter parameters shared by the listing and the
// export.
func deviceFilter(q query) (firmward.DeviceFilter, error) {
	var f firmward.DeviceFilter
	var err error
	if f.Category, err = enumParam(q, "category", firmward.Categories); err != nil {
		return f, err
	}
	if f.Criticality, err = enumParam(q, "criticality", firmward.Criticalities); err != nil {
		return f, err
	}
	if f.Exposure, err = enumParam(q, "exposure", firmward.Exposures); err != nil {
		return f, err
	}
	if f.UpdateMechanism, err = enumParam(q, "update_mechanism", firmward.UpdateMechanisms); err != nil {
		return f, err
	}
	switch f.Missing = q.get("missing"); f.Missing {
	case "", "firmware_version", "update_mechanism":
	default:
		return f, paramError("missing", f.Missing, "must be firmware_version or update_mechanism")
	}
	f.Manufacturer = q.get("manufacturer")
	f.Site = q.get("site")
	f.Tag = q.get("tag")
	f.Query = q.get("q")
	return f, nil
}

func (s *Server) handleListDevices(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery, paramNames(listDevicesParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := deviceFilter(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.After, err = cursorParam(q, cursorDevices); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	devices, next, err := s.devices.FindDevices(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if devices == nil {
		devices = []*firmward.Device{}
	}
	s.writeJSON(w, r, http.StatusOK, DeviceList{Devices: devices, NextCursor: encodeCursor(cursorDevices, next)})
}

func (s *Server) handleCreateDevice(w http.ResponseWriter, r *http.Request) {
	var d firmward.Device
	if err := decodeJSON(w, r, &d); err != nil {
		s.writeError(w, r, err)
		return
	}
	// The store owns these; a client echoing a device back must not set them.
	d.ID, d.CreatedAt, d.UpdatedAt = 0, time.Time{}, time.Time{}
	if err := s.devices.CreateDevice(r.Context(), &d); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", apiPrefix+"/devices/"+strconv.FormatInt(d.ID, 10))
	s.writeJSON(w, r, http.StatusCreated, &d)
}

func (s *Server) handleGetDevice(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.devices.FindDeviceByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, d)
}

func (s *Server) handleUpdateDevice(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var u firmward.DeviceUpdate
	if err := decodeJSON(w, r, &u); err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.devices.UpdateDevice(r.Context(), id, u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, d)
}

func (s *Server) handleDeleteDevice(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.devices.DeleteDevice(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// importFormat picks the format of an upload: the format parameter, else
// the Content-Type.
func importFormat(q query, contentType string) (string, error) {
	if f := q.get("format"); f != "" {
		if f != "csv" && f != "json" {
			return "", paramError("format", f, "must be csv or json")
		}
		return f, nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "text/csv", "application/csv":
		return "csv", nil
	case "application/json":
		return "json", nil
	}
	return "", paramError("format", "", "is needed: pass format=csv or format=json, or send Content-Type text/csv or application/json")
}

func (s *Server) handleImportDevices(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery, paramNames(importParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	format, err := importFormat(q, r.Header.Get("Content-Type"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	dryRun, err := boolParam(q, "dry_run")
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	// The reader remembers hitting the limit, whatever the parser makes of
	// the error it got.
	body := &limitedBody{r: http.MaxBytesReader(w, r.Body, s.maxImport)}
	var rows []firmward.ImportRow
	if format == "csv" {
		rows, err = inventory.ReadCSV(body)
	} else {
		rows, err = inventory.ReadJSON(body)
	}
	if body.over {
		err = tooLarge(&http.MaxBytesError{Limit: s.maxImport}, s.maxImport)
	}
	if err != nil {
		if firmward.ErrorCode(err) == firmward.EINTERNAL {
			// Reading the upload failed below the parser: the client's side.
			err = firmward.Errorf(firmward.EINVALID, "cannot read the uploaded %s: %s", format, err.Error())
		}
		s.writeError(w, r, err)
		return
	}
	res, err := s.devices.ImportDevices(r.Context(), rows, firmward.ImportOptions{DryRun: dryRun})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

// limitedBody records whether the reader under it reported the body limit.
type limitedBody struct {
	r    io.Reader
	over bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		b.over = true
	}
	return n, err
}

// deviceWriter is what the inventory package's CSV and JSON writers do.
type deviceWriter interface {
	Write(*firmward.Device) error
	Close() error
}

func (s *Server) handleExportDevices(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery, paramNames(exportParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	format := q.get("format")
	switch format {
	case "":
		format = "json"
	case "csv", "json":
	default:
		s.writeError(w, r, paramError("format", format, "must be csv or json"))
		return
	}
	f, err := deviceFilter(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f.Limit = firmward.MaxPageSize

	// The first page is read before anything is written, so that a failing
	// store still gets a proper error response.
	page, next, err := s.devices.FindDevices(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var out deviceWriter
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		out = inventory.NewCSVWriter(w)
	} else {
		w.Header().Set("Content-Type", "application/json")
		out = inventory.NewJSONWriter(w)
	}
	w.Header().Set("Content-Disposition", `attachment; filename="firmward-devices.`+format+`"`)
	rc := http.NewResponseController(w)
	for {
		for _, d := range page {
			if err := out.Write(d); err != nil {
				s.abortExport(r, err)
			}
		}
		if next == 0 {
			break
		}
		_ = rc.Flush()
		f.After = next
		if page, next, err = s.devices.FindDevices(r.Context(), f); err != nil {
			s.abortExport(r, err)
		}
	}
	if err := out.Close(); err != nil {
		s.abortExport(r, err)
	}
}

// abortExport logs a failure in the middle of an export and cuts the
// connection, so that the client sees a broken download rather than a short
// file that looks whole. It does not return.
func (s *Server) abortExport(r *http.Request, err error) {
	level := slog.LevelError
	if r.Context().Err() != nil {
		level = slog.LevelInfo // the client went away
	}
	s.logger.LogAttrs(r.Context(), level, "export failed midway",
		slog.String("request_id", infoFrom(r.Context()).id), slog.Any("err", err))
	panic(http.ErrAbortHandler)
}

func (s *Server) handleDeviceStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.devices.DeviceStats(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, st)
}
