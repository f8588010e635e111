package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/firmward/firmward/mqttnudge"
)

// startNudges connects to the MQTT broker at url and nudges the device of
// each new action (firmward/devices/<id>/nudge) until stop is called.
// With url empty it does nothing.
func startNudges(ctx context.Context, url string, actions mqttnudge.Actions, logger *slog.Logger) (stop func(), err error) {
	if url == "" {
		return func() {}, nil
	}
	logger = logger.With(slog.String("component", "mqtt"))
	client, err := mqttnudge.Dial(ctx, url, "firmward-serve-"+strconv.Itoa(os.Getpid()), logger)
	if err != nil {
		return nil, fmt.Errorf("starting MQTT nudges (--mqtt-url): %w", err)
	}
	w := &mqttnudge.Watcher{Actions: actions, Publisher: client, Logger: logger}
	if err := w.Start(ctx); err != nil {
		client.Close()
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(wctx)
	}()
	logger.Info("publishing MQTT nudges", slog.String("broker", url))
	return func() {
		cancel()
		<-done
		client.Close()
	}, nil
}
