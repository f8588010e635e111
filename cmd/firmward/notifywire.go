package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/notify"
	"github.com/firmward/firmward/sqlstore"
)

// notifyKeyFile holds the key that seals notification channel secrets
// (SMTP passwords, webhook keys, ntfy tokens) in the database. Replicas
// on one PostgreSQL need the same file.
const notifyKeyFile = "notify-secrets.key"

// defaultNotifyInterval is how often the dispatcher plans and sends.
const defaultNotifyInterval = 30 * time.Second

// notifyRuntime is the notification store and the dispatcher goroutine of
// `firmward serve`. A nil *notifyRuntime does nothing.
type notifyRuntime struct {
	store      *sqlstore.NotifyService
	dispatcher *notify.Dispatcher
	interval   time.Duration
	logger     *slog.Logger
	stop       context.CancelFunc
	done       chan struct{}
}

// newNotifyRuntime opens the notification store (creating the secret key
// on first start) and the dispatcher.
func newNotifyRuntime(dataDir string, db *sqlstore.DB, devices firmward.DeviceService, findings firmward.FindingService,
	checks firmward.CheckService, interval time.Duration, logger *slog.Logger,
) (*notifyRuntime, error) {
	key, err := loadNotifyKey(filepath.Join(dataDir, notifyKeyFile))
	if err != nil {
		return nil, err
	}
	store, err := sqlstore.NewNotifyService(db, sqlstore.NotifyOptions{SecretKey: key})
	if err != nil {
		return nil, err
	}
	log := logger.With(slog.String("component", "notify"))
	d, err := notify.New(notify.Config{
		Store: store, Alerts: sqlstore.NewAlertService(db), Findings: findings, Devices: devices, Checks: checks,
		Now: time.Now, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return &notifyRuntime{store: store, dispatcher: d, interval: interval, logger: log}, nil
}

// start runs a round now and every interval (0: no background sending).
func (n *notifyRuntime) start(ctx context.Context) {
	if n == nil || n.interval <= 0 {
		return
	}
	ctx, n.stop = context.WithCancel(context.WithoutCancel(ctx))
	n.done = make(chan struct{})
	go func() {
		defer close(n.done)
		t := time.NewTicker(n.interval)
		defer t.Stop()
		n.dispatcher.Run(ctx, t.C)
	}()
	n.logger.Info("notifications on", slog.Duration("interval", n.interval), slog.String("owner", n.dispatcher.Owner()))
}

// close stops the dispatcher; a send in flight is cut off and its lease
// runs out, so another round (here or on a replica) sends it again.
func (n *notifyRuntime) close() {
	if n == nil || n.stop == nil {
		return
	}
	n.stop()
	<-n.done
	n.stop = nil
}

// notifyStore and notifyTester are nil-safe accessors for the wiring.
func (n *notifyRuntime) notifyStore() firmward.NotifyService {
	if n == nil {
		return nil
	}
	return n.store
}

func (n *notifyRuntime) notifyTester() firmward.NotifyTester {
	if n == nil {
		return nil
	}
	return n.dispatcher
}

// loadNotifyKey reads the 32-byte key (hex) or creates it with mode 0600.
func loadNotifyKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the server's own data directory
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("making the notification secret key: %w", err)
		}
		if err := writePrivateFile(path, []byte(hex.EncodeToString(key)+"\n")); err != nil {
			return nil, fmt.Errorf("saving the notification secret key to %s: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the notification secret key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s is not a 32-byte hex key; restore it from a backup (channel secrets stored with it cannot be read without it)", path)
	}
	return key, nil
}
