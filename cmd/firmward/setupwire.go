package main

import (
	"context"
	"log/slog"

	"github.com/firmward/firmward"
)

// printSetupHint tells the person who started a fresh server where the
// first-run wizard is: while setup is neither done nor skipped and the
// inventory is empty, it logs the wizard's address (stdout keeps only the
// token and the listening line). Errors only log: the hint is a courtesy.
func (m *Main) printSetupHint(ctx context.Context, settings firmward.SettingsService, devices firmward.DeviceService) {
	_, err := settings.Setting(ctx, firmward.SettingSetupDone)
	if firmward.ErrorCode(err) != firmward.ENOTFOUND {
		if err != nil {
			m.logger.Warn("reading the setup state", slog.Any("err", err))
		}
		return
	}
	st, err := devices.DeviceStats(ctx)
	if err != nil {
		m.logger.Warn("counting devices for the setup hint", slog.Any("err", err))
		return
	}
	if st.Total > 0 {
		return
	}
	m.logger.Info("first start: open the setup wizard in a browser and sign in with the admin token", slog.String("url", m.URL()+"/setup"))
}
