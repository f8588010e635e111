package seed

import "github.com/firmward/firmward"

// HomeSite is the site of every device of Home.
const HomeSite = "Home"

// Home returns the inventory of a typical connected home: a router exposed
// to the internet, mesh Wi-Fi, cameras, a smart lock, a thermostat, lights,
// plugs, a TV, a NAS, a printer, a baby monitor and a few gadgets nobody
// remembers buying. A few devices have no known firmware version or update
// mechanism, as in real homes, so that the "unknown is unprotected" view
// has something to show.
//
// MAC prefixes are the manufacturers' real IEEE assignments (locally
// administered for vendors whose prefix is not public); IP addresses are in
// 192.168.1.0/24 and are inventory data only. Each call returns fresh
// slices that the caller may change.
func Home() []firmward.Device {
	ds := []firmward.Device{
		{
			Name: "Main router", Manufacturer: "TP-Link", Model: "Archer AX21", HardwareVersion: "V1.20",
			FirmwareVersion: "1.1.3 Build 20221201 rel.62108", Serial: "2231548004512",
			Category: firmward.CategoryNetworkInfrastructure, Criticality: firmward.CriticalityHigh,
			Exposure: firmward.ExposureInternetFacing, UpdateMechanism: firmward.UpdateWebAdmin, AutoUpdate: firmward.AutoUpdateNo,
			MACs: []string{"50:c7:bf:3a:91:02"}, IPs: []string{"192.168.1.1"}, Location: "Hallway cupboard",
			CPE:          "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.3:*:*:*:*:*:*:*",
			PurchaseDate: "2022-03-14", ReplacementCost: 89.99, Tags: []string{"wifi", "gateway"},
			Notes: "Updated by hand in the web interface (http://192.168.1.1, System Tools > Firmware Update).",
		},
		{
			Name: "Mesh base (access point mode)", Manufacturer: "Netgear", Model: "Orbi RBR750", HardwareVersion: "1.0",
			FirmwareVersion: "V7.2.6.21_5.0.20", Serial: "6LA1975A00B3D",
			Category: firmward.CategoryNetworkInfrastructure, Criticality: firmward.CriticalityHigh,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			MACs: []string{"a0:40:a0:7c:12:e5"}, IPs: []string{"192.168.1.2"}, Location: "Living room",
			CPE:          "cpe:2.3:o:netgear:rbr750_firmware:7.2.6.21:*:*:*:*:*:*:*",
			PurchaseDate: "2021-11-26", ReplacementCost: 279, Tags: []string{"wifi", "mesh"},
		},
		{
			Name: "Mesh satellite upstairs", Manufacturer: "Netgear", Model: "Orbi RBS750", HardwareVersion: "1.0",
			FirmwareVersion: "V7.2.6.21_5.0.20", Serial: "6LB1975C01F7A",
			Category: firmward.CategoryNetworkInfrastructure, Criticality: firmward.CriticalityMedium,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			MACs: []string{"a0:40:a0:7c:13:0b"}, IPs: []string{"192.168.1.3"}, Location: "Upstairs landing",
			CPE:          "cpe:2.3:o:netgear:rbs750_firmware:7.2.6.21:*:*:*:*:*:*:*",
			PurchaseDate: "2021-11-26", ReplacementCost: 199, Tags: []string{"wifi", "mesh"},
		},
		{
			Name: "Front door doorbell", Manufacturer: "Ring", Model: "Video Doorbell (2nd Gen)",
			Category: firmward.CategoryCamera, Criticality: firmward.CriticalityMedium,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			MACs: []string{"34:3e:a4:5d:08:c1"}, IPs: []string{"192.168.1.40"}, Location: "Front door",
			PurchaseDate: "2021-06-02", ReplacementCost: 99.99, Tags: []string{"camera", "outdoor"},
			Notes: "The Ring app does not show a firmware version; updates arrive by themselves.",
		},
		{
			Name: "Driveway camera", Manufacturer: "Reolink", Model: "RLC-810A", HardwareVersion: "IPC_523128M8MP",
			FirmwareVersion: "v3.1.0.1162_22081204", Serial: "192200118801234",
			Category: firmward.CategoryCamera, Criticality: firmward.CriticalityMedium,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateWebAdmin, AutoUpdate: firmward.AutoUpdateNo,
			MACs: []string{"ec:71:db:4e:2a:93"}, IPs: []string{"192.168.1.41"}, Location: "Garage wall, facing driveway",
			PurchaseDate: "2022-09-10", ReplacementCost: 99.99, Tags: []string{"camera", "outdoor", "poe"},
		},
		{
			Name: "Living room camera", Manufacturer: "Wyze", Model: "Wyze Cam v3",
			FirmwareVersion: "4.36.11.5859",
			Category:        firmward.CategoryCamera, Criticality: firmward.CriticalityMedium,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateNo,
			MACs: []string{"2c:aa:8e:91:0f:44"}, IPs: []string{"192.168.1.42"}, Location: "Living room",
			CPE:          "cpe:2.3:o:wyze:cam_v3_firmware:4.36.11.5859:*:*:*:*:*:*:*",
			PurchaseDate: "2021-02-20", ReplacementCost: 35.98, Tags: []string{"camera", "indoor"},
		},
		{
			Name: "Front door lock", Manufacturer: "August", Model: "Wi-Fi Smart Lock (4th Gen)",
			FirmwareVersion: "1.12.6",
			Category:        firmward.CategoryLock, Criticality: firmward.CriticalityHigh,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			MACs: []string{"78:9c:85:22:6a:d0"}, IPs: []string{"192.168.1.50"}, Location: "Front door",
			PurchaseDate: "2022-05-08", ReplacementCost: 229.99, Tags: []string{"lock", "physical-security"},
		},
		{
			Name: "Thermostat", Manufacturer: "Google Nest", Model: "Nest Learning Thermostat (2nd gen)",
			FirmwareVersion: "5.9.3-5",
			Category:        firmward.CategoryConsumerSmartHome, Criticality: firmward.CriticalityMedium,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			MACs: []string{"18:b4:30:0e:5c:71"}, IPs: []string{"192.168.1.51"}, Location: "Hallway",
			EOLDate: "2025-10-25", PurchaseDate: "2014-10-03", ReplacementCost: 249,
			Tags:  []string{"heating"},
			Notes: "Google ended software updates and app support for the 1st and 2nd generation on 2025-10-25.",
		},
		{
			Name: "Hue Bridge", Manufacturer: "Philips Hue", Model: "Hue Bridge v2 (BSB002)",
			FirmwareVersion: "1.60.1960149090",
			Category:        firmward.CategoryConsumerSmartHome, Criticality: firmward.CriticalityLow,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			MACs: []string{"00:17:88:6b:c4:1e"}, IPs: []string{"192.168.1.60"}, Location: "Living room, behind the TV",
			CPE:          "cpe:2.3:o:philips:hue_bridge_v2_firmware:1960149090:*:*:*:*:*:*:*",
			PurchaseDate: "2020-12-19", ReplacementCost: 59.99, Tags: []string{"lighting", "zigbee-hub"},
		},
		{
			Name: "Living room ceiling bulb", Manufacturer: "Philips Hue", Model: "White and Color Ambiance A19 (LCA001)",
			FirmwareVersion: "1.104.2",
			Category:        firmward.CategoryConsumerSmartHome, Criticality: firmward.CriticalityLow,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			Location: "Living room", PurchaseDate: "2020-12-19", ReplacementCost: 49.99, Tags: []string{"lighting", "zigbee"},
			Notes: "Zigbee: no IP address of its own; updated through the Hue Bridge.",
		},
		{
			Name: "Bedroom lamp bulb", Manufacturer: "Philips Hue", Model: "White Ambiance A19 (LTA001)",
			FirmwareVersion: "1.104.2",
			Category:        firmward.CategoryConsumerSmartHome, Criticality: firmward.CriticalityLow,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			Location: "Bedroom", PurchaseDate: "2021-03-02", ReplacementCost: 24.99, Tags: []string{"lighting", "zigbee"},
			Notes: "Zigbee: no IP address of its own; updated through the Hue Bridge.",
		},
		{
			Name: "Coffee machine plug", Manufacturer: "TP-Link", Model: "Kasa Smart Plug Mini HS103", HardwareVersion: "5.0",
			FirmwareVersion: "1.0.3 Build 210506 Rel.083620",
			Category:        firmward.CategoryConsumerSmartHome, Criticality: firmward.CriticalityLow,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateNo,
			MACs: []string{"98:da:c4:61:7e:2f"}, IPs: []string{"192.168.1.70"}, Location: "Kitchen",
			PurchaseDate: "2021-08-15", ReplacementCost: 12.99, Tags: []string{"plug"},
		},
		{
			Name: "Space heater plug", Manufacturer: "TP-Link", Model: "Kasa Smart Plug KP115", HardwareVersion: "1.0",
			FirmwareVersion: "1.0.18 Build 210910 Rel.141202",
			Category:        firmward.CategoryConsumerSmartHome, Criticality: firmward.CriticalityMedium,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateNo,
			MACs: []string{"1c:3b:f3:0a:d4:86"}, IPs: []string{"192.168.1.71"}, Location: "Home office",
			PurchaseDate: "2022-01-09", ReplacementCost: 16.99, Tags: []string{"plug", "energy-monitoring"},
			Notes: "Switches a space heater: a hijacked plug is a fire risk.",
		},
		{
			Name: "Balcony lights plug", Manufacturer: "Gosund", Model: "WP3 (Tuya)",
			Category: firmward.CategoryConsumerSmartHome, Criticality: firmward.CriticalityLow,
			Exposure: firmward.ExposureInternal, AutoUpdate: firmward.AutoUpdateUnknown,
			MACs: []string{"10:d5:61:9b:33:a7"}, IPs: []string{"192.168.1.72"}, Location: "Balcony",
			PurchaseDate: "2020-07-01", ReplacementCost: 9.99, Tags: []string{"plug"},
			Notes: "No-name plug from a four-pack; nobody knows how or whether it is updated.",
		},
		{
			Name: "Living room TV", Manufacturer: "Samsung", Model: "QN65Q80B (2022)",
			FirmwareVersion: "T-PTM2AKUC-1623.4",
			Category:        firmward.CategoryConsumerSmartHome, Criticality: firmward.CriticalityLow,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			MACs: []string{"8c:79:f5:d2:40:1b", "8c:79:f5:d2:40:1c"}, IPs: []string{"192.168.1.80"}, Location: "Living room",
			PurchaseDate: "2022-11-25", ReplacementCost: 1299.99, Tags: []string{"media"},
		},
		{
			Name: "NAS", Manufacturer: "Synology", Model: "DS220+",
			FirmwareVersion: "DSM 7.1.1-42962", Serial: "2160QVR834215",
			Category: firmward.CategoryOther, Criticality: firmward.CriticalityHigh,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateWebAdmin, AutoUpdate: firmward.AutoUpdateNo,
			MACs: []string{"00:11:32:a7:5e:10", "00:11:32:a7:5e:11"}, IPs: []string{"192.168.1.20"}, Location: "Home office",
			CPE:          "cpe:2.3:o:synology:diskstation_manager:7.1.1-42962:*:*:*:*:*:*:*",
			PurchaseDate: "2021-01-18", ReplacementCost: 299.99, Tags: []string{"storage", "backups"},
			Notes: "Holds the family photos and laptop backups. DSM updates: Control Panel > Update & Restore.",
		},
		{
			Name: "Printer", Manufacturer: "Brother", Model: "HL-L2350DW",
			FirmwareVersion: "1.74", Serial: "U64180L0N123456",
			Category: firmward.CategoryOther, Criticality: firmward.CriticalityLow,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateWebAdmin, AutoUpdate: firmward.AutoUpdateNo,
			MACs: []string{"30:05:5c:6e:b2:19"}, IPs: []string{"192.168.1.30"}, Location: "Home office",
			PurchaseDate: "2019-09-04", ReplacementCost: 119.99, Tags: []string{"printer"},
		},
		{
			Name: "Baby monitor", Manufacturer: "Nanit", Model: "Nanit Pro Camera",
			Category: firmward.CategoryCamera, Criticality: firmward.CriticalityHigh,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			MACs: []string{"02:4e:41:4e:49:54"}, IPs: []string{"192.168.1.43"}, Location: "Nursery",
			PurchaseDate: "2023-04-11", ReplacementCost: 299.99, Tags: []string{"camera", "indoor", "kids-room"},
			Notes: "Streams video of the nursery: keep it updated. The app does not show the firmware version.",
		},
		{
			Name: "Kitchen speaker", Manufacturer: "Sonos", Model: "One (Gen 2)",
			FirmwareVersion: "15.9",
			Category:        firmward.CategoryConsumerSmartHome, Criticality: firmward.CriticalityLow,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			MACs: []string{"00:0e:58:f1:2c:3d"}, IPs: []string{"192.168.1.81"}, Location: "Kitchen",
			PurchaseDate: "2020-03-28", ReplacementCost: 219, Tags: []string{"media", "microphone"},
		},
		{
			Name: "Bedroom smart speaker", Manufacturer: "Amazon", Model: "Echo Dot (5th Gen)",
			Category: firmward.CategoryConsumerSmartHome, Criticality: firmward.CriticalityLow,
			Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
			MACs: []string{"48:43:dd:0c:7a:52"}, IPs: []string{"192.168.1.82"}, Location: "Bedroom",
			PurchaseDate: "2023-11-24", ReplacementCost: 49.99, Tags: []string{"media", "microphone"},
		},
		{
			Name: "Robot vacuum", Manufacturer: "Roborock", Model: "S7",
			FirmwareVersion: "02.29.02",
			Category:        firmward.CategoryConsumerSmartHome, Criticality: firmward.CriticalityLow,
			Exposure: firmward.ExposureInternal, AutoUpdate: firmward.AutoUpdateUnknown,
			MACs: []string{"b0:4a:39:5f:e1:08"}, IPs: []string{"192.168.1.90"}, Location: "Hallway dock",
			PurchaseDate: "2022-07-12", ReplacementCost: 649.99, Tags: []string{"mapping"},
			Notes: "Maps the flat. Unclear whether the app installs updates by itself.",
		},
	}
	for i := range ds {
		ds[i].Site = HomeSite
		ds[i].Owner = "Household"
	}
	return ds
}
