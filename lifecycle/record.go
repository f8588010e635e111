package lifecycle

import (
	"context"
	"fmt"

	"github.com/firmward/firmward"
)

// RecordCheck stores a health check and brings the inventory in line with
// what the person (agent, scan) confirmed: a firmware version other than
// the device's, or automatic updates found on or off, update the device
// through devices (audited as device.update, and re-matched by a watched
// service). It returns the device fields it changed.
func RecordCheck(ctx context.Context, devices firmward.DeviceService, checks firmward.CheckService, c *firmward.HealthCheck) ([]firmward.FieldChange, error) {
	d, err := devices.FindDeviceByID(ctx, c.DeviceID)
	if err != nil {
		return nil, err
	}
	if err := checks.RecordHealthCheck(ctx, c); err != nil {
		return nil, err
	}
	var u firmward.DeviceUpdate
	var changes []firmward.FieldChange
	if c.FirmwareVersion != "" && c.FirmwareVersion != d.FirmwareVersion {
		v := c.FirmwareVersion
		u.FirmwareVersion = &v
		changes = append(changes, firmward.FieldChange{Field: "firmware_version", Old: d.FirmwareVersion, New: v})
	}
	var au firmward.AutoUpdate
	switch c.AutoUpdate {
	case firmward.AnswerYes:
		au = firmward.AutoUpdateYes
	case firmward.AnswerNo, firmward.AnswerNA:
		au = firmward.AutoUpdateNo
	}
	if au != "" && au != d.AutoUpdate {
		u.AutoUpdate = &au
		changes = append(changes, firmward.FieldChange{Field: "auto_update", Old: string(d.AutoUpdate), New: string(au)})
	}
	if len(changes) == 0 {
		return nil, nil
	}
	if _, err := devices.UpdateDevice(ctx, c.DeviceID, u); err != nil {
		return nil, fmt.Errorf("the check is recorded, but updating device %d failed: %w", c.DeviceID, err)
	}
	return changes, nil
}
