// Package mqttnudge publishes a nudge on MQTT when an action reaches a
// device, so that a firmward-agent subscribed to its topic
// (firmward/devices/<device id>/nudge) polls at once instead of at its
// next poll interval. Nudges carry no data; the agent learns what to do
// from its authenticated poll, so a forged nudge costs only one poll.
//
// The Watcher finds new actions by reading the action list after the last
// id it has seen, so every way an action is created (a deployment, a
// campaign wave, a rollback) nudges without being wired to it.
package mqttnudge

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/firmward/firmward"
)

// Topic returns the nudge topic of a device.
func Topic(deviceID int64) string {
	return "firmward/devices/" + strconv.FormatInt(deviceID, 10) + "/nudge"
}

// Actions is what the Watcher reads: firmward.DeliveryService's listing.
type Actions interface {
	FindActions(ctx context.Context, f firmward.ActionFilter) ([]*firmward.Action, int64, error)
}

// Publisher sends one nudge to a device.
type Publisher interface {
	Nudge(ctx context.Context, deviceID int64) error
}

// DefaultInterval is how often the Watcher looks for new actions.
const DefaultInterval = time.Second

// pageSize is how many actions one listing reads.
const pageSize = 1000

// Watcher nudges the device of each new open action.
type Watcher struct {
	Actions   Actions
	Publisher Publisher
	Interval  time.Duration
	Logger    *slog.Logger
	last      int64 // the highest action id seen; owned by Run's goroutine
}

// Start skips the actions that exist now (devices with those have been
// told, or will poll anyway).
func (w *Watcher) Start(ctx context.Context) error {
	for {
		page, next, err := w.Actions.FindActions(ctx, firmward.ActionFilter{After: w.last, Limit: pageSize})
		if err != nil {
			return fmt.Errorf("MQTT nudges: listing actions: %w", err)
		}
		for _, a := range page {
			w.last = max(w.last, a.ID)
		}
		if next == 0 || len(page) == 0 {
			return nil
		}
	}
}

// Once nudges the devices of actions created since the last call, and
// returns how many nudges it sent.
func (w *Watcher) Once(ctx context.Context) (int, error) {
	n := 0
	for {
		page, next, err := w.Actions.FindActions(ctx, firmward.ActionFilter{After: w.last, Limit: pageSize})
		if err != nil {
			return n, fmt.Errorf("MQTT nudges: listing actions: %w", err)
		}
		seen := map[int64]bool{}
		for _, a := range page {
			w.last = max(w.last, a.ID)
			if !a.Status.Open() || seen[a.DeviceID] {
				continue
			}
			seen[a.DeviceID] = true
			if err := w.Publisher.Nudge(ctx, a.DeviceID); err != nil {
				w.logger().Warn("MQTT nudge failed", "device", a.DeviceID, "err", err)
				continue
			}
			n++
		}
		if next == 0 || len(page) == 0 {
			return n, nil
		}
	}
}

// Run calls Once every Interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	iv := w.Interval
	if iv <= 0 {
		iv = DefaultInterval
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := w.Once(ctx); err != nil && ctx.Err() == nil {
			w.logger().Warn("MQTT nudges", "err", err)
		}
	}
}

func (w *Watcher) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

// Client publishes nudges to an MQTT broker.
type Client struct {
	c mqtt.Client
}

var _ Publisher = (*Client)(nil)

// Dial connects to the broker at url (tcp://host:1883); the connection is
// kept up in the background.
func Dial(ctx context.Context, url, clientID string, logger *slog.Logger) (*Client, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := mqtt.NewClientOptions().AddBroker(url).SetClientID(clientID).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(5 * time.Second).
		SetConnectTimeout(10 * time.Second)
	opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		logger.Warn("MQTT connection lost; reconnecting", "err", err)
	})
	c := mqtt.NewClient(opts)
	t := c.Connect()
	select {
	case <-t.Done():
		if err := t.Error(); err != nil {
			return nil, fmt.Errorf("MQTT broker %s: %w", url, err)
		}
	case <-ctx.Done():
		c.Disconnect(0)
		return nil, ctx.Err()
	case <-time.After(5 * time.Second):
		logger.Warn("MQTT broker not reachable yet; retrying in the background", "url", url)
	}
	return &Client{c: c}, nil
}

// Nudge implements Publisher: an empty QoS 1 message on the device's
// topic, not retained.
func (c *Client) Nudge(ctx context.Context, deviceID int64) error {
	if !c.c.IsConnectionOpen() {
		return fmt.Errorf("MQTT: not connected")
	}
	t := c.c.Publish(Topic(deviceID), 1, false, []byte{})
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Second):
		return fmt.Errorf("MQTT: publishing to %s timed out", Topic(deviceID))
	}
}

// Close disconnects.
func (c *Client) Close() { c.c.Disconnect(250) }
