package lifecycle

import (
	"context"
	"fmt"

	"github.com/firmward/firmward"
)

// openWrtToH is the page of OpenWrt's Table of Hardware that lists every
// supported device.
const openWrtToH = "https://openwrt.org/toh/start"

// SeedOpenFirmware is the open-firmware list a new database starts with:
// models of the seed inventories' manufacturers (TP-Link, Netgear, Cisco
// Meraki, Aruba) that OpenWrt supports. A person edits the list afterwards
// (API, CLI); entries removed stay removed.
//
// Source: the OpenWrt Table of Hardware, https://openwrt.org/toh/start,
// and the release notes of OpenWrt 21.02
// (https://openwrt.org/releases/21.02/notes-21.02.0), which added the
// Aruba AP-303/AP-303H, the Cisco Meraki MR33/MR74 and the Netgear
// RBR50/RBS50 (ipq40xx target). The TP-Link Archer C7 v2/v5, Archer A7 v5
// (ath79) and the Netgear R7800 (ipq806x) are long-standing targets. Each
// entry's URL is its Table of Hardware page.
func SeedOpenFirmware() []firmward.OpenFirmwareModel {
	const fw = "OpenWrt"
	return []firmward.OpenFirmwareModel{
		{Firmware: fw, Manufacturer: "TP-Link", Model: "Archer C7", HardwareVersion: "v2", URL: "https://openwrt.org/toh/tp-link/archer_c7"},
		{Firmware: fw, Manufacturer: "TP-Link", Model: "Archer C7", HardwareVersion: "v5", URL: "https://openwrt.org/toh/tp-link/archer_c7"},
		{Firmware: fw, Manufacturer: "TP-Link", Model: "Archer A7", HardwareVersion: "v5", URL: "https://openwrt.org/toh/tp-link/archer_a7_v5"},
		{Firmware: fw, Manufacturer: "Netgear", Model: "R7800", URL: "https://openwrt.org/toh/netgear/r7800"},
		{Firmware: fw, Manufacturer: "Netgear", Model: "Orbi RBR50", URL: openWrtToH},
		{Firmware: fw, Manufacturer: "Netgear", Model: "Orbi RBS50", URL: openWrtToH},
		{Firmware: fw, Manufacturer: "Cisco Meraki", Model: "MR33", URL: "https://openwrt.org/toh/meraki/mr33"},
		{Firmware: fw, Manufacturer: "Cisco Meraki", Model: "MR74", URL: openWrtToH},
		{Firmware: fw, Manufacturer: "Aruba", Model: "AP-303", URL: openWrtToH},
		{Firmware: fw, Manufacturer: "Aruba", Model: "AP-303H", URL: openWrtToH},
	}
}

// OpenFirmware returns the open-firmware list, adding SeedOpenFirmware the
// first time a database is asked (one audited change; a no-op read after
// that), so that a new installation starts with the embedded models and
// entries a person removed stay removed.
func OpenFirmware(ctx context.Context, eol firmward.EOLService) ([]*firmward.OpenFirmwareModel, error) {
	if _, err := eol.SeedOpenFirmware(ctx, SeedOpenFirmware()); err != nil {
		return nil, fmt.Errorf("seeding the open-firmware list: %w", err)
	}
	return eol.FindOpenFirmware(ctx)
}
