package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/tufrepo"
)

// tufRefreshInterval is how often the server re-signs the TUF timestamp
// (and whatever else is past half its lifetime).
const tufRefreshInterval = 5 * time.Minute

// signedReleases is the release catalog with TUF signing: each stored
// artifact of a new release is added to the repository's targets (custom
// {"release_id": N}), and removed when the release is withdrawn. Vendor
// artifacts (a URL, maybe no hash) are not signed.
type signedReleases struct {
	firmward.ReleaseService
	repo   *tufrepo.Repo
	logger *slog.Logger
}

func releaseTargets(r *firmward.Release) []tufrepo.Target {
	custom, _ := json.Marshal(map[string]int64{"release_id": r.ID})
	var out []tufrepo.Target
	for _, a := range r.Artifacts {
		if a.Stored() {
			out = append(out, tufrepo.Target{Name: firmward.ReleaseTargetName(r.ID, a.Name), Length: a.Size, SHA256: a.SHA256, Custom: custom})
		}
	}
	return out
}

// CreateRelease stores r, then signs its artifacts. A release that cannot
// be signed is withdrawn at once, so that it is never deployed unsigned.
func (s *signedReleases) CreateRelease(ctx context.Context, r *firmward.Release) error {
	if err := s.ReleaseService.CreateRelease(ctx, r); err != nil {
		return err
	}
	targets := releaseTargets(r)
	if len(targets) == 0 {
		return nil
	}
	version, err := s.repo.AddTargets(ctx, targets...)
	if err != nil {
		_, _, werr := s.ReleaseService.WithdrawRelease(context.WithoutCancel(ctx), r.ID, "signing failed: "+err.Error())
		return errors.Join(fmt.Errorf("signing release %d (withdrawn again): %w", r.ID, err), werr)
	}
	s.logger.Info("signed release", slog.Int64("release", r.ID), slog.Int("targets", len(targets)), slog.Int64("targets_version", version))
	return nil
}

// WithdrawRelease withdraws the release, then removes its targets from the
// repository, so that devices refuse its artifacts from the next refresh.
func (s *signedReleases) WithdrawRelease(ctx context.Context, id int64, reason string) (*firmward.Release, int, error) {
	r, n, err := s.ReleaseService.WithdrawRelease(ctx, id, reason)
	if err != nil {
		return nil, 0, err
	}
	var names []string
	for _, t := range releaseTargets(r) {
		names = append(names, t.Name)
	}
	if len(names) > 0 {
		if _, err := s.repo.RemoveTargets(context.WithoutCancel(ctx), names...); err != nil {
			return r, n, fmt.Errorf("release %d is withdrawn, but its signed targets could not be removed from the TUF repository: %w", id, err)
		}
	}
	return r, n, nil
}

// openSigning opens the TUF repository in dir when one was created with
// `firmward keys init`; without one, releases are not signed (nil, nil).
func openSigning(ctx context.Context, dir string, logger *slog.Logger) (*tufrepo.Repo, error) {
	if _, err := os.Stat(filepath.Join(dir, "metadata", "root.json")); errors.Is(err, os.ErrNotExist) {
		logger.Warn("releases are not signed: no TUF repository; create one with firmward keys init", slog.String("dir", dir))
		return nil, nil
	}
	repo, err := tufrepo.Open(ctx, tufrepo.Config{Dir: dir, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("opening the TUF repository %s: %w", dir, err)
	}
	if _, err := repo.Refresh(ctx, false); err != nil {
		return nil, fmt.Errorf("refreshing the TUF metadata: %w", err)
	}
	return repo, nil
}

// refreshSigning re-signs what is due every tufRefreshInterval until ctx
// ends.
func refreshSigning(ctx context.Context, repo *tufrepo.Repo, logger *slog.Logger) {
	t := time.NewTicker(tufRefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if roles, err := repo.Refresh(ctx, false); err != nil {
				logger.Error("refreshing the TUF metadata", slog.Any("err", err))
			} else if len(roles) > 0 {
				logger.Info("re-signed TUF metadata", slog.Any("roles", roles))
			}
		}
	}
}

// tufMetadataHandler serves the files of DIR/metadata (no directory
// listings) for devices to fetch under /tuf/.
func tufMetadataHandler(dir string) http.Handler {
	files := http.StripPrefix("/tuf/", http.FileServer(http.Dir(dir)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/") || !strings.HasSuffix(r.URL.Path, ".json") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
