package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/artifact"
)

// ReleaseConfig gives the UI the release catalog (/releases): the same
// release service (signing, where configured) and artifact store the API
// uses.
type ReleaseConfig struct {
	Releases  firmward.ReleaseService
	Artifacts *artifact.Store
	// MaxUploadBytes bounds an uploaded artifact (the store's own limit
	// still applies); zero is DefaultMaxUploadBytes.
	MaxUploadBytes int64
}

// DefaultMaxUploadBytes bounds an artifact uploaded through the web form.
const DefaultMaxUploadBytes = 2 << 30

// Bounds of the upload form's text: one field, and how many.
const (
	maxFieldBytes = 64 << 10
	maxFormParts  = 32
)

// releasesView is the data of the catalog.
type releasesView struct {
	Releases []*firmward.Release
}

// releaseView is the data of one release's page.
type releaseView struct {
	Release *firmward.Release
}

// releaseForm is the data of the upload form: what was typed, and why it
// was refused.
type releaseForm struct {
	Manufacturer, Models, HardwareVersions, Version, ReleaseDate string
	Channel, Notes, FixesCVEs, MinFromVersion, SHA256            string
	Message                                                      string
	Details                                                      []firmward.ErrorDetail
	MaxMiB                                                       int64
}

func (h *Handler) releasesReady(w http.ResponseWriter, r *http.Request, s *session) bool {
	if h.releases == nil || h.releases.Releases == nil || h.releases.Artifacts == nil {
		h.errorPage(w, r, s, http.StatusNotFound, "Releases are not available", "This server was started without the release catalog.")
		return false
	}
	return true
}

func (h *Handler) maxUpload() int64 {
	if h.releases.MaxUploadBytes > 0 {
		return h.releases.MaxUploadBytes
	}
	return DefaultMaxUploadBytes
}

func (h *Handler) releasesPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.releasesReady(w, r, s) {
		return
	}
	var all []*firmward.Release
	for f := (firmward.ReleaseFilter{IncludeWithdrawn: true, Limit: firmward.MaxPageSize}); ; {
		page, next, err := h.releases.Releases.FindReleases(r.Context(), f)
		if err != nil {
			h.serverError(w, r, s, err)
			return
		}
		all = append(all, page...)
		if next == 0 {
			break
		}
		f.After = next
	}
	h.render(w, r, s, http.StatusOK, "releases", view{Title: "Releases", Nav: "releases", Page: releasesView{Releases: all}})
}

// releaseID reads the {id} of the path; false answered 404.
func (h *Handler) releaseByPath(w http.ResponseWriter, r *http.Request, s *session) (*firmward.Release, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r)
		return nil, false
	}
	rel, err := h.releases.Releases.FindReleaseByID(r.Context(), id)
	if firmward.ErrorCode(err) == firmward.ENOTFOUND {
		h.notFound(w, r)
		return nil, false
	}
	if err != nil {
		h.serverError(w, r, s, err)
		return nil, false
	}
	return rel, true
}

func (h *Handler) releasePage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.releasesReady(w, r, s) {
		return
	}
	rel, ok := h.releaseByPath(w, r, s)
	if !ok {
		return
	}
	h.render(w, r, s, http.StatusOK, "release", view{Title: "Release " + rel.Manufacturer + " " + rel.Version, Nav: "releases", Page: releaseView{Release: rel}})
}

func (h *Handler) newRelease(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.releasesReady(w, r, s) {
		return
	}
	h.render(w, r, s, http.StatusOK, "release_new", view{Title: "Upload a release", Nav: "releases", Page: releaseForm{Channel: "stable", MaxMiB: h.maxUpload() >> 20}})
}

// withdrawRelease recalls a release from its page.
func (h *Handler) withdrawRelease(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.releasesReady(w, r, s) {
		return
	}
	rel, ok := h.releaseByPath(w, r, s)
	if !ok {
		return
	}
	back := "/releases/" + strconv.FormatInt(rel.ID, 10)
	_, n, err := h.releases.Releases.WithdrawRelease(r.Context(), rel.ID, strings.TrimSpace(r.PostFormValue("reason")))
	if err != nil {
		switch firmward.ErrorCode(err) {
		case firmward.EINVALID, firmward.ECONFLICT, firmward.ENOTFOUND:
			h.flash(w, "Not withdrawn: "+sentence(flashText(err)))
			http.Redirect(w, r, back, http.StatusSeeOther)
		default:
			h.serverError(w, r, s, fmt.Errorf("withdrawing release %d: %w", rel.ID, err))
		}
		return
	}
	h.log.InfoContext(r.Context(), "web: release withdrawn", "release", rel.ID, "canceled_actions", n, "token", s.token.ID)
	h.flash(w, fmt.Sprintf("Release %s %s withdrawn; %d actions canceled. Running campaigns that use it pause.", rel.Manufacturer, rel.Version, n))
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// uploadRelease creates a release from the upload form. The body is read
// as a stream: the text fields (the CSRF token first), which are checked
// as a release before the file is read, then the file, which goes straight
// into the artifact store and is refused there, storing nothing, when its
// SHA-256 is not the one declared. The form
// puts every text field before the file; a file before the CSRF token or
// the declared hash is refused unread.
func (h *Handler) uploadRelease(w http.ResponseWriter, r *http.Request, s *session) {
	if err := h.checkOrigin(r); err != nil {
		h.log.WarnContext(r.Context(), "web: cross-origin form refused", "path", r.URL.Path, "token", s.token.ID, "err", err)
		h.csrfFailed(w, r, s)
		return
	}
	if !h.releasesReady(w, r, s) {
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		h.errorPage(w, r, s, http.StatusUnsupportedMediaType, "Form refused", "The release form must be sent as multipart/form-data.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxUpload()+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		h.errorPage(w, r, s, http.StatusBadRequest, "Form refused", "The form could not be read: "+err.Error()+".")
		return
	}
	fields := map[string]string{}
	var sums *artifact.Sums
	var fileName string
	csrfOK := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			h.uploadReadFailed(w, r, s, err)
			return
		}
		if len(fields) >= maxFormParts {
			h.errorPage(w, r, s, http.StatusBadRequest, "Form refused", fmt.Sprintf("The form has more than %d fields.", maxFormParts))
			return
		}
		name := part.FormName()
		if part.FileName() == "" {
			if _, dup := fields[name]; dup {
				h.errorPage(w, r, s, http.StatusBadRequest, "Form refused", fmt.Sprintf("The field %q was sent twice.", clipText(name)))
				return
			}
			b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			if err != nil {
				h.uploadReadFailed(w, r, s, err)
				return
			}
			if len(b) > maxFieldBytes {
				h.errorPage(w, r, s, http.StatusRequestEntityTooLarge, "Too large", fmt.Sprintf("The field %q is longer than %d KiB.", clipText(name), maxFieldBytes>>10))
				return
			}
			fields[name] = string(b)
			if name == "csrf" {
				if !sameToken(fields["csrf"], s.csrf) {
					h.log.WarnContext(r.Context(), "web: bad CSRF token", "path", r.URL.Path, "token", s.token.ID)
					h.csrfFailed(w, r, s)
					return
				}
				csrfOK = true
				// The role is checked only once the form is known to come
				// from this session, as for every other form.
				if !s.canEdit() {
					h.forbidden(w, r, s)
					return
				}
			}
			continue
		}
		if name != "file" || sums != nil {
			h.errorPage(w, r, s, http.StatusBadRequest, "Form refused", "The form carries one file, in the field \"file\".")
			return
		}
		if !csrfOK {
			h.log.WarnContext(r.Context(), "web: upload before the CSRF token", "path", r.URL.Path, "token", s.token.ID)
			h.csrfFailed(w, r, s)
			return
		}
		fileName = part.FileName()
		declared := strings.ToLower(strings.TrimSpace(fields["sha256"]))
		if declared == "" || artifact.ValidSHA256(declared) != nil {
			h.refuseRelease(w, r, s, fields, firmward.Errorf(firmward.EINVALID,
				"enter the file's SHA-256 as the vendor publishes it (64 hex digits) before the file; the upload is checked against it"))
			return
		}
		// Every field is known now: check the release before storing a
		// byte, so that a refused form leaves nothing behind.
		check := releaseFromFields(fields)
		check.Artifacts = []firmward.ReleaseArtifact{{Name: baseName(fileName), SHA256: declared}}
		if err := check.Normalize(); err != nil {
			h.refuseRelease(w, r, s, fields, err)
			return
		}
		got, err := h.releases.Artifacts.Put(r.Context(), part, declared)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				err = firmward.Errorf(firmward.ETOOLARGE, "the file is larger than %d MiB", h.maxUpload()>>20)
			}
			h.refuseRelease(w, r, s, fields, err)
			return
		}
		sums = &got
	}
	if !csrfOK {
		h.log.WarnContext(r.Context(), "web: upload without a CSRF token", "path", r.URL.Path, "token", s.token.ID)
		h.csrfFailed(w, r, s)
		return
	}
	rel := releaseFromFields(fields)
	if sums == nil {
		h.refuseRelease(w, r, s, fields, firmward.Errorf(firmward.EINVALID, "choose the firmware file to upload"))
		return
	}
	rel.Artifacts = []firmward.ReleaseArtifact{{Name: baseName(fileName), SHA256: sums.SHA256, SHA1: sums.SHA1, MD5: sums.MD5, Size: sums.Size}}
	if err := rel.Normalize(); err != nil {
		h.refuseRelease(w, r, s, fields, err)
		return
	}
	if err := h.releases.Releases.CreateRelease(r.Context(), rel); err != nil {
		h.refuseRelease(w, r, s, fields, err)
		return
	}
	h.log.InfoContext(r.Context(), "web: release uploaded", "release", rel.ID, "sha256", sums.SHA256, "size", sums.Size, "token", s.token.ID)
	h.flash(w, fmt.Sprintf("Release %s %s added with %s (%d bytes).", rel.Manufacturer, rel.Version, rel.Artifacts[0].Name, sums.Size))
	http.Redirect(w, r, "/releases/"+strconv.FormatInt(rel.ID, 10), http.StatusSeeOther)
}

// releaseFromFields is the release the upload form describes, without
// its file.
func releaseFromFields(fields map[string]string) *firmward.Release {
	return &firmward.Release{
		Manufacturer: fields["manufacturer"], Models: splitList(fields["models"]), HardwareVersions: splitList(fields["hardware_versions"]),
		Version: fields["version"], ReleaseDate: fields["release_date"], Channel: fields["channel"], Notes: fields["notes"],
		FixesCVEs: splitList(strings.ToUpper(fields["fixes_cves"])), MinFromVersion: fields["min_from_version"],
	}
}

// uploadReadFailed answers a body that could not be read.
func (h *Handler) uploadReadFailed(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		h.errorPage(w, r, s, http.StatusRequestEntityTooLarge, "Too large", fmt.Sprintf("The upload is larger than %d MiB.", h.maxUpload()>>20))
		return
	}
	h.errorPage(w, r, s, http.StatusBadRequest, "Form refused", "The form could not be read: "+clipText(err.Error())+".")
}

// refuseRelease shows the form again with what was typed and why it was
// refused; errors other than bad input are server errors.
func (h *Handler) refuseRelease(w http.ResponseWriter, r *http.Request, s *session, fields map[string]string, err error) {
	status := http.StatusUnprocessableEntity
	switch firmward.ErrorCode(err) {
	case firmward.EINVALID:
	case firmward.ECONFLICT:
		status = http.StatusConflict
	case firmward.ETOOLARGE:
		status = http.StatusRequestEntityTooLarge
	default:
		h.serverError(w, r, s, err)
		return
	}
	f := releaseForm{
		Manufacturer: fields["manufacturer"], Models: fields["models"], HardwareVersions: fields["hardware_versions"],
		Version: fields["version"], ReleaseDate: fields["release_date"], Channel: fields["channel"], Notes: fields["notes"],
		FixesCVEs: fields["fixes_cves"], MinFromVersion: fields["min_from_version"], SHA256: fields["sha256"],
		Message: sentence(firmward.ErrorMessage(err)), Details: firmward.ErrorDetails(err), MaxMiB: h.maxUpload() >> 20,
	}
	h.render(w, r, s, status, "release_new", view{Title: "Upload refused", Nav: "releases", Page: f})
}

// baseName is the last element of a browser-sent file name (some send a
// Windows path); what is left is checked by Release.Normalize.
func baseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// clipText shortens s for a message.
func clipText(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
