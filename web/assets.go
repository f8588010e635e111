package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded file, served at /static/<hash>/<name>.
type asset struct {
	name        string
	hash        string // first 16 hex digits of its SHA-256
	contentType string
	body        []byte
}

// loadAssets reads and hashes every file under static/.
func loadAssets() (map[string]asset, error) {
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("web: reading assets: %w", err)
	}
	out := make(map[string]asset, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("web: reading asset: %w", err)
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" {
			ct = "application/octet-stream"
		}
		out[e.Name()] = asset{name: e.Name(), hash: hex.EncodeToString(sum[:8]), contentType: ct, body: b}
	}
	return out, nil
}

// assetURL returns the content-hashed URL of an embedded file; templates
// call it as {{static "style.css"}}. An unknown name fails the template.
func (h *Handler) assetURL(name string) (string, error) {
	a, ok := h.assets[name]
	if !ok {
		return "", fmt.Errorf("web: no asset %q", name)
	}
	return "/static/" + a.hash + "/" + a.name, nil
}

// static serves an embedded file. Under its current hash it may be cached
// for a year; under an old hash (a page from before an upgrade) the current
// content is served but must not be cached.
func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets[r.PathValue("name")]
	if !ok {
		h.notFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	if r.PathValue("hash") == a.hash {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
		hd.Set("ETag", `"`+a.hash+`"`)
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
