// Package mqttsub subscribes firmward-agent to the MQTT topic on which
// firmward publishes a nudge when an action reaches the device
// (firmward/devices/<device id>/nudge, see package mqttnudge), so that the
// agent polls at once instead of at its next interval.
package mqttsub

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Topic returns the nudge topic of a device.
func Topic(deviceID int64) string {
	return "firmward/devices/" + strconv.FormatInt(deviceID, 10) + "/nudge"
}

// Config configures Subscribe.
type Config struct {
	// BrokerURL is tcp://host:1883 (or ssl://, ws://).
	BrokerURL string
	// ClientID identifies the agent at the broker.
	ClientID string
	DeviceID int64
	Logger   *slog.Logger
}

// Subscribe connects to the broker (retrying in the background when it is
// down) and returns a channel that receives a value per nudge (coalesced:
// at most one waits). It disconnects when ctx ends.
func Subscribe(ctx context.Context, cfg Config) (<-chan struct{}, error) {
	if cfg.DeviceID <= 0 {
		return nil, fmt.Errorf("MQTT: the device id is unknown (enroll, or set device_id)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	nudges := make(chan struct{}, 1)
	topic := Topic(cfg.DeviceID)
	onMsg := func(_ mqtt.Client, _ mqtt.Message) {
		select {
		case nudges <- struct{}{}:
		default:
		}
	}
	opts := mqtt.NewClientOptions().AddBroker(cfg.BrokerURL).SetClientID(cfg.ClientID).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(5 * time.Second).
		SetMaxReconnectInterval(time.Minute).SetCleanSession(true)
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		t := c.Subscribe(topic, 1, onMsg)
		go func() {
			if t.WaitTimeout(10*time.Second) && t.Error() != nil {
				cfg.Logger.Warn("MQTT subscribe failed", "topic", topic, "err", t.Error())
				return
			}
			cfg.Logger.Info("MQTT subscribed", "topic", topic)
			// A nudge may have been missed while disconnected.
			onMsg(nil, nil)
		}()
	})
	opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		cfg.Logger.Warn("MQTT connection lost; reconnecting", "err", err)
	})
	c := mqtt.NewClient(opts)
	t := c.Connect()
	go func() {
		<-ctx.Done()
		c.Disconnect(250)
	}()
	// With SetConnectRetry, Connect returns at once and retries in the
	// background; wait briefly so that a broker that is up is used at once.
	t.WaitTimeout(5 * time.Second)
	return nudges, nil
}
