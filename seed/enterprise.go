package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/firmward/firmward"
)

// DefaultEnterpriseSite names the campus of Enterprise when the caller
// gives no site.
const DefaultEnterpriseSite = "Riverside General Hospital"

// DefaultEnterpriseCount is the size of the sample campus.
const DefaultEnterpriseCount = 2000

// segment is a VLAN of the campus. Hosts of segment i get addresses in
// 10.B.(16*i … 16*i+15).0/24, a /20 each: 4,064 hosts.
type segment struct {
	name string
	vlan int
}

var segments = []segment{
	{"network-mgmt", 10},
	{"cctv", 110},
	{"medical-devices", 120},
	{"building-automation", 130},
	{"physical-access", 140},
	{"printers", 150},
	{"ot-plant", 160},
	{"iot-sensors", 170},
}

const hostsPerSegment = 16 * 254

// building is one building of the campus; clinical buildings hold patients.
type building struct {
	name     string
	code     string
	floors   int
	clinical bool
}

var buildings = []building{
	{"Main Tower", "MT", 9, true},
	{"East Wing", "EW", 4, true},
	{"Women's & Children's", "WC", 5, true},
	{"Outpatient Clinic", "OC", 3, true},
	{"Research Building", "RB", 4, false},
	{"Central Plant", "CP", 2, false},
	{"Parking Garage", "PG", 5, false},
}

// place says where a kind of device is installed.
type place int

const (
	placeAnywhere   place = iota // every building
	placeClinical                // patient areas
	placeIndoor                  // every building but the garage
	placePlant                   // central plant, research labs
	placeCloset                  // network closets (IDFs) in every building
	placeMechanical              // mechanical rooms
	placeDoor                    // doors with badge readers
	placeFridge                  // medication and specimen fridges
)

// template is one model of the fleet.
type template struct {
	prefix       string // name prefix
	weight       int    // share of the fleet, per mille
	manufacturer string
	model        string
	hw           string
	firmware     []string // versions seen in the fleet, most common first
	cpe          string   // CPE 2.3 up to the version ("cpe:2.3:o:axis:p3245-v_firmware"), or ""
	ouis         []string // vendor MAC prefixes; empty for locally administered
	serial       func(rnd *rand.Rand, mac string) string

	category    firmward.Category
	criticality firmward.Criticality
	exposure    firmward.Exposure
	mechanism   firmward.UpdateMechanism
	auto        firmward.AutoUpdate
	segment     int
	owner       string
	tags        []string
	place       place
	eol         string
	cost        float64
	bought      [2]int // purchase years, inclusive
	notes       string
}

// Serial number styles.
func digits(n int) func(*rand.Rand, string) string {
	return func(rnd *rand.Rand, _ string) string { return randomString(rnd, "", n, "0123456789") }
}

func prefixed(p string, n int) func(*rand.Rand, string) string {
	return func(rnd *rand.Rand, _ string) string {
		return randomString(rnd, p, n, "0123456789ABCDEFGHJKLMNPRSTUVWXYZ")
	}
}

// axisSerial: Axis prints the MAC address as the serial number.
func axisSerial(_ *rand.Rand, mac string) string {
	return strings.ToUpper(strings.ReplaceAll(mac, ":", ""))
}

// merakiSerial: Q2XX-XXXX-XXXX.
func merakiSerial(rnd *rand.Rand, _ string) string {
	const cs = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	return randomString(rnd, "Q3A", 1, cs) + "-" + randomString(rnd, "", 4, cs) + "-" + randomString(rnd, "", 4, cs)
}

func randomString(rnd *rand.Rand, prefix string, n int, charset string) string {
	b := []byte(prefix)
	for range n {
		b = append(b, charset[rnd.IntN(len(charset))])
	}
	return string(b)
}

var (
	oAxis      = []string{"00:40:8c", "ac:cc:8e", "b8:a4:4f"}
	oHikvision = []string{"44:19:b6", "bc:ad:28", "c0:56:e3", "28:57:be", "4c:bd:8f"}
	oBosch     = []string{"00:04:63", "00:1c:44"}
	oMeraki    = []string{"88:15:44", "e0:55:3d", "ac:17:c8", "0c:8d:db"}
	oAruba     = []string{"00:0b:86", "24:de:c6", "94:b4:0f", "d8:c7:c8"}
	oCisco     = []string{"00:27:0d", "70:1f:53", "f8:7b:20", "5c:a6:2d"}
	oHP        = []string{"3c:d9:2b", "9c:8e:99", "10:1f:74", "b4:b6:86"}
	oXerox     = []string{"9c:93:4e", "00:00:aa"}
	oJCI       = []string{"00:10:8d"}
	oHoneywell = []string{"00:40:84", "f0:54:94"}
	oTridium   = []string{"00:01:f0"}
	oHID       = []string{"00:06:8e"}
	oS2        = []string{"00:0f:a6"}
	oAlaris    = []string{"00:d0:75", "f8:c6:78"}
	oBaxter    = []string{"58:42:e4"}
	oSiemens   = []string{"00:1b:1b", "28:63:36", "00:0e:8c", "ac:64:17"}
	oRockwell  = []string{"00:00:bc", "00:1d:9c", "f4:54:33", "5c:88:16"}
	oSchneider = []string{"00:80:f4", "00:00:54"}
)

const (
	ownerSecurity = "Security Operations"
	ownerNetwork  = "Network Engineering"
	ownerIT       = "IT Service Desk"
	ownerFacility = "Facilities"
	ownerClinical = "Clinical Engineering"
	ownerPlant    = "Plant Operations"
	ownerPharmacy = "Pharmacy"
)

// Segment indexes into segments.
const (
	segMgmt = iota
	segCCTV
	segMedical
	segBMS
	segAccess
	segPrinters
	segOT
	segSensors
)

var templates = []template{
	// IP cameras.
	{
		prefix: "CAM", weight: 60, manufacturer: "Axis Communications", model: "AXIS P3245-V",
		firmware: []string{"10.12.213", "10.12.199", "9.80.47"}, cpe: "cpe:2.3:o:axis:p3245-v_firmware",
		ouis: oAxis, serial: axisSerial, category: firmward.CategoryCamera, criticality: firmward.CriticalityMedium,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateNo,
		segment: segCCTV, owner: ownerSecurity, tags: []string{"cctv", "indoor"}, place: placeIndoor, cost: 749, bought: [2]int{2018, 2023},
	},
	{
		prefix: "CAM", weight: 15, manufacturer: "Axis Communications", model: "AXIS Q6135-LE PTZ",
		firmware: []string{"11.8.64", "10.12.213"}, cpe: "cpe:2.3:o:axis:q6135-le_firmware",
		ouis: oAxis, serial: axisSerial, category: firmward.CategoryCamera, criticality: firmward.CriticalityMedium,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateNo,
		segment: segCCTV, owner: ownerSecurity, tags: []string{"cctv", "outdoor", "ptz"}, place: placeAnywhere, cost: 3399, bought: [2]int{2020, 2024},
	},
	{
		prefix: "CAM", weight: 55, manufacturer: "Hikvision", model: "DS-2CD2143G2-I",
		firmware: []string{"V5.7.11 build 220929", "V5.7.3 build 220112", "V5.5.800 build 210628"},
		cpe:      "cpe:2.3:o:hikvision:ds-2cd2143g2-i_firmware",
		ouis:     oHikvision, serial: prefixed("DS-2CD2143G2-I20220", 9), category: firmward.CategoryCamera, criticality: firmward.CriticalityMedium,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateNo,
		segment: segCCTV, owner: ownerSecurity, tags: []string{"cctv", "indoor"}, place: placeAnywhere, cost: 189, bought: [2]int{2019, 2022},
		notes: "Installed by the former security contractor; firmware updated only when someone remembers.",
	},
	{
		prefix: "CAM", weight: 20, manufacturer: "Bosch Security Systems", model: "FLEXIDOME IP 5000i", hw: "NDE-5503-AL",
		firmware: []string{"7.80.0128", "7.72.0066"},
		ouis:     oBosch, serial: digits(12), category: firmward.CategoryCamera, criticality: firmward.CriticalityMedium,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segCCTV, owner: ownerSecurity, tags: []string{"cctv", "outdoor"}, place: placeAnywhere, cost: 899, bought: [2]int{2017, 2021},
	},

	// Wireless access points.
	{
		prefix: "AP", weight: 55, manufacturer: "Cisco Meraki", model: "MR46",
		firmware: []string{"MR 29.7.1", "MR 30.6", "MR 28.7.1"},
		ouis:     oMeraki, serial: merakiSerial, category: firmward.CategoryNetworkInfrastructure, criticality: firmward.CriticalityMedium,
		exposure: firmward.ExposureInternal, mechanism: firmward.UpdateVendorCloud, auto: firmward.AutoUpdateYes,
		segment: segMgmt, owner: ownerNetwork, tags: []string{"wifi"}, place: placeIndoor, cost: 1099, bought: [2]int{2020, 2024},
	},
	{
		prefix: "AP", weight: 20, manufacturer: "Cisco Meraki", model: "MR36",
		firmware: []string{"MR 29.7.1", "MR 30.6"},
		ouis:     oMeraki, serial: merakiSerial, category: firmward.CategoryNetworkInfrastructure, criticality: firmward.CriticalityMedium,
		exposure: firmward.ExposureInternal, mechanism: firmward.UpdateVendorCloud, auto: firmward.AutoUpdateYes,
		segment: segMgmt, owner: ownerNetwork, tags: []string{"wifi"}, place: placeIndoor, cost: 599, bought: [2]int{2021, 2024},
	},
	{
		prefix: "AP", weight: 30, manufacturer: "Aruba", model: "AP-515",
		firmware: []string{"8.10.0.6", "8.11.2.1", "8.6.0.21"}, cpe: "cpe:2.3:o:arubanetworks:arubaos",
		ouis: oAruba, serial: prefixed("CNJ", 7), category: firmward.CategoryNetworkInfrastructure, criticality: firmward.CriticalityMedium,
		exposure: firmward.ExposureInternal, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateNo,
		segment: segMgmt, owner: ownerNetwork, tags: []string{"wifi", "controller-managed"}, place: placeClinical, cost: 895, bought: [2]int{2019, 2023},
	},
	{
		prefix: "AP", weight: 15, manufacturer: "Aruba", model: "AP-303H",
		firmware: []string{"8.10.0.6", "8.6.0.21"}, cpe: "cpe:2.3:o:arubanetworks:arubaos",
		ouis: oAruba, serial: prefixed("CNH", 7), category: firmward.CategoryNetworkInfrastructure, criticality: firmward.CriticalityMedium,
		exposure: firmward.ExposureInternal, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateNo,
		segment: segMgmt, owner: ownerNetwork, tags: []string{"wifi", "wall-plate", "controller-managed"}, place: placeClinical, cost: 349, bought: [2]int{2018, 2021},
	},

	// Switches.
	{
		prefix: "SW", weight: 25, manufacturer: "Cisco", model: "Catalyst 9300-48P",
		firmware: []string{"17.9.4a", "17.6.5", "17.3.4"}, cpe: "cpe:2.3:o:cisco:ios_xe",
		ouis: oCisco, serial: prefixed("FOC2", 7), category: firmward.CategoryNetworkInfrastructure, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureInternal, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segMgmt, owner: ownerNetwork, tags: []string{"switch", "poe"}, place: placeCloset, cost: 7950, bought: [2]int{2019, 2024},
	},
	{
		prefix: "SW", weight: 15, manufacturer: "Cisco", model: "Catalyst 2960X-48FPD-L",
		firmware: []string{"15.2(7)E8", "15.2(4)E10"}, cpe: "cpe:2.3:o:cisco:ios",
		ouis: oCisco, serial: prefixed("FCW1", 7), category: firmward.CategoryNetworkInfrastructure, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureInternal, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segMgmt, owner: ownerNetwork, tags: []string{"switch", "poe", "legacy"}, place: placeCloset, eol: "2027-10-31", cost: 4200, bought: [2]int{2014, 2017},
		notes: "Catalyst 2960-X: end of sale announced; last date of support 2027-10-31.",
	},
	{
		prefix: "SW", weight: 15, manufacturer: "HPE Aruba Networking", model: "2930F-48G-PoE+ (JL256A)",
		firmware: []string{"WC.16.11.0014", "WC.16.10.0022"},
		ouis:     oAruba, serial: prefixed("SG9", 7), category: firmward.CategoryNetworkInfrastructure, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureInternal, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateNo,
		segment: segMgmt, owner: ownerNetwork, tags: []string{"switch", "poe"}, place: placeCloset, cost: 3100, bought: [2]int{2018, 2022},
	},

	// Printers.
	{
		prefix: "PRN", weight: 35, manufacturer: "HP", model: "LaserJet Enterprise M507dn",
		firmware: []string{"5.6.0.2", "5.7.1.2", "4.11.2.1"},
		ouis:     oHP, serial: prefixed("PHB", 7), category: firmward.CategoryOther, criticality: firmward.CriticalityLow,
		exposure: firmward.ExposureInternal, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateNo,
		segment: segPrinters, owner: ownerIT, tags: []string{"printer"}, place: placeIndoor, cost: 649, bought: [2]int{2019, 2023},
	},
	{
		prefix: "PRN", weight: 15, manufacturer: "HP", model: "Color LaserJet Pro MFP M479fdw",
		firmware: []string{"002.2315A", "002.2148A"},
		ouis:     oHP, serial: prefixed("VNB", 7), category: firmward.CategoryOther, criticality: firmward.CriticalityLow,
		exposure: firmward.ExposureInternal, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateYes,
		segment: segPrinters, owner: ownerIT, tags: []string{"printer", "scanner"}, place: placeIndoor, cost: 599, bought: [2]int{2020, 2023},
	},
	{
		prefix: "PRN", weight: 15, manufacturer: "Xerox", model: "VersaLink C405",
		firmware: []string{"77.22.23", "77.21.73"},
		ouis:     oXerox, serial: prefixed("3390", 6), category: firmward.CategoryOther, criticality: firmward.CriticalityLow,
		exposure: firmward.ExposureInternal, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateNo,
		segment: segPrinters, owner: ownerIT, tags: []string{"printer", "scanner"}, place: placeIndoor, cost: 1049, bought: [2]int{2018, 2022},
	},
	{
		prefix: "PRN", weight: 10, manufacturer: "Xerox", model: "AltaLink C8155",
		firmware: []string{"103.008.033.21420"},
		ouis:     oXerox, serial: prefixed("GZP", 6), category: firmward.CategoryOther, criticality: firmward.CriticalityLow,
		exposure: firmward.ExposureInternal, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segPrinters, owner: ownerIT, tags: []string{"printer", "scanner", "leased"}, place: placeIndoor, cost: 12500, bought: [2]int{2021, 2023},
	},

	// Building automation (HVAC).
	{
		prefix: "BMS", weight: 35, manufacturer: "Johnson Controls", model: "Metasys NAE5510",
		firmware: []string{"10.1.5", "9.0.7"},
		ouis:     oJCI, serial: prefixed("D", 9), category: firmward.CategoryIndustrial, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segBMS, owner: ownerFacility, tags: []string{"hvac", "bacnet"}, place: placeMechanical, cost: 4500, bought: [2]int{2016, 2021},
	},
	{
		prefix: "BMS", weight: 15, manufacturer: "Johnson Controls", model: "Metasys NAE55",
		firmware: []string{"8.1.0.2300", "6.5.0.4101"},
		ouis:     oJCI, serial: prefixed("C", 9), category: firmward.CategoryLegacyOT, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segBMS, owner: ownerFacility, tags: []string{"hvac", "bacnet", "legacy"}, place: placeMechanical, eol: "2021-06-30", cost: 4000, bought: [2]int{2009, 2014},
		notes: "Superseded by the NAE55 successor line; plan replacement.",
	},
	{
		prefix: "BMS", weight: 25, manufacturer: "Honeywell", model: "WEBs-N4 JACE 8000",
		firmware: []string{"4.12.1.16", "4.10.5.8"}, cpe: "cpe:2.3:a:tridium:niagara",
		ouis: oTridium, serial: prefixed("H", 8), category: firmward.CategoryIndustrial, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segBMS, owner: ownerFacility, tags: []string{"hvac", "bacnet", "niagara"}, place: placeMechanical, cost: 3900, bought: [2]int{2018, 2023},
	},
	{
		prefix: "BMS", weight: 15, manufacturer: "Honeywell", model: "CIPer Model 30 Controller",
		firmware: []string{"1.1.1", "1.0.4"},
		ouis:     oHoneywell, serial: digits(10), category: firmward.CategoryIndustrial, criticality: firmward.CriticalityMedium,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segBMS, owner: ownerFacility, tags: []string{"hvac", "bacnet"}, place: placeMechanical, cost: 1800, bought: [2]int{2020, 2024},
	},

	// Badge and door controllers.
	{
		prefix: "ACS", weight: 25, manufacturer: "HID Global", model: "VertX EVO V1000",
		firmware: []string{"3.5.2.1483", "3.5.1.1447"},
		ouis:     oHID, serial: digits(8), category: firmward.CategoryLock, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segAccess, owner: ownerSecurity, tags: []string{"physical-access", "badge"}, place: placeDoor, cost: 1450, bought: [2]int{2013, 2018},
	},
	{
		prefix: "ACS", weight: 15, manufacturer: "HID Global", model: "Aero X1100A",
		firmware: []string{"1.29.4.0612", "1.27.1.0422"},
		ouis:     oHID, serial: digits(8), category: firmward.CategoryLock, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segAccess, owner: ownerSecurity, tags: []string{"physical-access", "badge"}, place: placeDoor, cost: 1600, bought: [2]int{2019, 2024},
	},
	{
		prefix: "ACS", weight: 20, manufacturer: "LenelS2", model: "LNL-X2220",
		firmware: []string{"1.30.5", "1.29.1"},
		serial:   digits(9), category: firmward.CategoryLock, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segAccess, owner: ownerSecurity, tags: []string{"physical-access", "badge", "onguard"}, place: placeDoor, cost: 1900, bought: [2]int{2017, 2022},
	},
	{
		prefix: "ACS", weight: 10, manufacturer: "LenelS2", model: "NetBox Extreme",
		firmware: []string{"5.6.2", "5.4.1"},
		ouis:     oS2, serial: digits(9), category: firmward.CategoryLock, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateNo,
		segment: segAccess, owner: ownerSecurity, tags: []string{"physical-access", "badge"}, place: placeDoor, cost: 5200, bought: [2]int{2016, 2020},
	},

	// Infusion pumps.
	{
		prefix: "PUMP", weight: 140, manufacturer: "BD", model: "Alaris 8015 PC Unit",
		firmware: []string{"12.1.3", "12.1.2", "9.33"},
		ouis:     oAlaris, serial: digits(8), category: firmward.CategoryMedical, criticality: firmward.CriticalitySafetyCritical,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segMedical, owner: ownerClinical, tags: []string{"medical", "infusion"}, place: placeClinical, cost: 4200, bought: [2]int{2016, 2023},
		notes: "Updates only by Clinical Engineering with the vendor's validated procedure.",
	},
	{
		prefix: "PUMP", weight: 70, manufacturer: "Baxter", model: "Sigma Spectrum Infusion System v8",
		firmware: []string{"8.00.01", "8.00.00"},
		ouis:     oBaxter, serial: digits(7), category: firmward.CategoryMedical, criticality: firmward.CriticalitySafetyCritical,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segMedical, owner: ownerClinical, tags: []string{"medical", "infusion"}, place: placeClinical, cost: 3800, bought: [2]int{2015, 2021},
		notes: "Wireless battery module firmware is tracked separately by the vendor.",
	},
	{
		prefix: "PUMP", weight: 30, manufacturer: "Baxter", model: "Spectrum IQ Infusion System",
		firmware: []string{"9.02.01"},
		ouis:     oBaxter, serial: digits(7), category: firmward.CategoryMedical, criticality: firmward.CriticalitySafetyCritical,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segMedical, owner: ownerClinical, tags: []string{"medical", "infusion", "dose-iq"}, place: placeClinical, cost: 4500, bought: [2]int{2021, 2024},
	},

	// PLCs.
	{
		prefix: "PLC", weight: 12, manufacturer: "Siemens", model: "SIMATIC S7-1200 CPU 1214C DC/DC/DC", hw: "6ES7214-1AG40-0XB0",
		firmware: []string{"V4.5.2", "V4.4.1", "V4.2.3"}, cpe: "cpe:2.3:o:siemens:simatic_s7-1200_cpu_firmware",
		ouis: oSiemens, serial: prefixed("S C-", 8), category: firmward.CategoryIndustrial, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segOT, owner: ownerPlant, tags: []string{"ot", "plc", "profinet"}, place: placePlant, cost: 650, bought: [2]int{2017, 2023},
	},
	{
		prefix: "PLC", weight: 8, manufacturer: "Siemens", model: "SIMATIC S7-1500 CPU 1515-2 PN", hw: "6ES7515-2AM02-0AB0",
		firmware: []string{"V2.9.4", "V2.8.3"}, cpe: "cpe:2.3:o:siemens:simatic_s7-1500_cpu_firmware",
		ouis: oSiemens, serial: prefixed("S C-", 8), category: firmward.CategoryIndustrial, criticality: firmward.CriticalitySafetyCritical,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segOT, owner: ownerPlant, tags: []string{"ot", "plc", "profinet", "medical-gas"}, place: placePlant, cost: 3900, bought: [2]int{2019, 2024},
		notes: "Runs the medical gas and chilled-water plant: change only in a maintenance window.",
	},
	{
		prefix: "PLC", weight: 5, manufacturer: "Siemens", model: "SIMATIC S7-300 CPU 315-2 PN/DP", hw: "6ES7315-2EH14-0AB0",
		firmware: []string{"V3.2.17", "V3.2.8"}, cpe: "cpe:2.3:o:siemens:simatic_s7-300_cpu_firmware",
		ouis: oSiemens, serial: prefixed("S C-", 8), category: firmward.CategoryLegacyOT, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segOT, owner: ownerPlant, tags: []string{"ot", "plc", "legacy"}, place: placePlant, eol: "2023-10-01", cost: 2500, bought: [2]int{2008, 2013},
		notes: "S7-300 is discontinued; spare parts only. Plan migration to S7-1500.",
	},
	{
		prefix: "PLC", weight: 7, manufacturer: "Rockwell Automation", model: "ControlLogix 5580 1756-L83E",
		firmware: []string{"33.011", "32.013"},
		ouis:     oRockwell, serial: prefixed("D0", 6), category: firmward.CategoryIndustrial, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segOT, owner: ownerPlant, tags: []string{"ot", "plc", "ethernet-ip"}, place: placePlant, cost: 9800, bought: [2]int{2018, 2023},
	},
	{
		prefix: "PLC", weight: 4, manufacturer: "Rockwell Automation", model: "ControlLogix 5560 1756-L61",
		firmware: []string{"20.055", "19.015"},
		ouis:     oRockwell, serial: prefixed("C0", 6), category: firmward.CategoryLegacyOT, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segOT, owner: ownerPlant, tags: []string{"ot", "plc", "ethernet-ip", "legacy"}, place: placePlant, eol: "2018-12-31", cost: 6500, bought: [2]int{2007, 2012},
		notes: "Discontinued controller: no further firmware; replace or isolate.",
	},
	{
		prefix: "PLC", weight: 6, manufacturer: "Schneider Electric", model: "Modicon M580 BMEP582040",
		firmware: []string{"3.20", "3.10"}, cpe: "cpe:2.3:o:schneider-electric:modicon_m580_firmware",
		ouis: oSchneider, serial: digits(10), category: firmward.CategoryIndustrial, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segOT, owner: ownerPlant, tags: []string{"ot", "plc", "modbus"}, place: placePlant, cost: 5600, bought: [2]int{2019, 2024},
	},
	{
		prefix: "PLC", weight: 4, manufacturer: "Schneider Electric", model: "Modicon M340 BMXP342020",
		firmware: []string{"3.40", "3.30"}, cpe: "cpe:2.3:o:schneider-electric:modicon_m340_firmware",
		ouis: oSchneider, serial: digits(10), category: firmward.CategoryIndustrial, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateTechnician, auto: firmward.AutoUpdateNo,
		segment: segOT, owner: ownerPlant, tags: []string{"ot", "plc", "modbus"}, place: placePlant, cost: 2400, bought: [2]int{2014, 2019},
	},
	{
		prefix: "PLC", weight: 2, manufacturer: "Schneider Electric", model: "Modicon Premium TSXP574634M",
		firmware: []string{"3.01"},
		ouis:     oSchneider, serial: digits(10), category: firmward.CategoryLegacyOT, criticality: firmward.CriticalityHigh,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateNone, auto: firmward.AutoUpdateNo,
		segment: segOT, owner: ownerPlant, tags: []string{"ot", "plc", "modbus", "legacy"}, place: placePlant, eol: "2017-12-31", cost: 7000, bought: [2]int{2005, 2010},
		notes: "No vendor updates any more: compensate with segmentation until replaced.",
	},

	// Sensors.
	{
		prefix: "SNS", weight: 90, manufacturer: "Vaisala", model: "RFL100 Data Logger",
		firmware: []string{"1.2.1", "1.1.0"},
		serial:   prefixed("T", 7), category: firmward.CategorySensor, criticality: firmward.CriticalityMedium,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateNo,
		segment: segSensors, owner: ownerPharmacy, tags: []string{"temperature", "cold-chain"}, place: placeFridge, cost: 620, bought: [2]int{2019, 2024},
		notes: "Monitors a medication or specimen fridge; alarms go to viewLinc.",
	},
	{
		prefix: "SNS", weight: 40, manufacturer: "Axis Communications", model: "AXIS D2110-VE Security Radar",
		firmware: []string{"11.8.64", "10.12.213"}, cpe: "cpe:2.3:o:axis:d2110-ve_firmware",
		ouis: oAxis, serial: axisSerial, category: firmward.CategorySensor, criticality: firmward.CriticalityLow,
		exposure: firmward.ExposureSegmented, mechanism: firmward.UpdateWebAdmin, auto: firmward.AutoUpdateNo,
		segment: segSensors, owner: ownerSecurity, tags: []string{"radar", "perimeter", "outdoor"}, place: placeAnywhere, cost: 1199, bought: [2]int{2021, 2024},
	},
}

// Enterprise returns n devices of a hospital campus named site (the
// default site when empty): IP cameras, access points, switches, printers,
// building-automation controllers, badge controllers, infusion pumps, PLCs
// and sensors, in proportions typical of a hospital, with locations,
// owning teams, VLAN segments and tags. Legacy models carry end-of-life
// dates; a few percent of devices have an unknown firmware version or
// update mechanism, as discovered-but-never-audited devices do.
//
// The result depends only on n, site and the state of rnd: the same seed
// gives the same inventory. MACs use the vendors' IEEE prefixes (locally
// administered addresses where the prefix is not public) and are unique;
// IPs are in 10.B.0.0/16, one /20 per segment, and are inventory data only.
// Devices beyond a segment's 4,064 addresses get no IP.
func Enterprise(n int, site string, rnd *rand.Rand) []firmward.Device {
	if n <= 0 {
		return nil
	}
	if site == "" {
		site = DefaultEnterpriseSite
	}
	total := 0
	for _, t := range templates {
		total += t.weight
	}
	g := generator{
		rnd:    rnd,
		macs:   newMACSet(rnd),
		second: 16 + rnd.IntN(200),
		hosts:  make([]int, len(segments)),
		seq:    map[string]int{},
	}
	out := make([]firmward.Device, 0, n)
	for i := range n {
		var t *template
		if i < len(templates) {
			t = &templates[i] // every model at least once
		} else {
			pick := rnd.IntN(total)
			for j := range templates {
				if pick < templates[j].weight {
					t = &templates[j]
					break
				}
				pick -= templates[j].weight
			}
		}
		d := g.device(t)
		d.Site = site
		out = append(out, d)
	}
	return out
}

type generator struct {
	rnd    *rand.Rand
	macs   *macSet
	second int            // second octet of every IP
	hosts  []int          // addresses handed out per segment
	seq    map[string]int // devices per name prefix
}

func (g *generator) device(t *template) firmward.Device {
	rnd := g.rnd
	g.seq[t.prefix]++
	b, floor, location := g.place(t.place)

	var oui string
	if len(t.ouis) > 0 {
		oui = t.ouis[rnd.IntN(len(t.ouis))]
	}
	mac := g.macs.next(oui)

	d := firmward.Device{
		Name:            fmt.Sprintf("%s-%s-%02d-%04d", t.prefix, b.code, floor, g.seq[t.prefix]),
		Manufacturer:    t.manufacturer,
		Model:           t.model,
		HardwareVersion: t.hw,
		Category:        t.category,
		Criticality:     t.criticality,
		Exposure:        t.exposure,
		UpdateMechanism: t.mechanism,
		AutoUpdate:      t.auto,
		MACs:            []string{mac},
		Location:        location,
		Owner:           t.owner,
		Segment:         fmt.Sprintf("vlan%d-%s", segments[t.segment].vlan, segments[t.segment].name),
		EOLDate:         t.eol,
		Notes:           t.notes,
		Tags:            append([]string(nil), t.tags...),
		ReplacementCost: t.cost,
		PurchaseDate: fmt.Sprintf("%d-%02d-%02d", t.bought[0]+rnd.IntN(t.bought[1]-t.bought[0]+1),
			1+rnd.IntN(12), 1+rnd.IntN(28)),
	}
	if t.serial != nil {
		d.Serial = t.serial(rnd, mac)
	}
	if ip := g.ip(t.segment); ip != "" {
		d.IPs = []string{ip}
	}
	// Firmware: skewed towards the first (most common) version.
	fw := t.firmware[min(rnd.IntN(len(t.firmware)), rnd.IntN(len(t.firmware)))]
	switch r := rnd.IntN(100); {
	case r < 4: // found on the network, never logged in to
		d.Tags = append(d.Tags, "needs-audit")
	default:
		d.FirmwareVersion = fw
		if t.cpe != "" {
			d.CPE = t.cpe + ":" + cpeVersion(fw) + ":*:*:*:*:*:*:*"
		}
	}
	if t.category == firmward.CategorySensor && rnd.IntN(100) < 10 {
		d.UpdateMechanism = firmward.UpdateUnknown
		d.AutoUpdate = firmward.AutoUpdateUnknown
	}
	if t.category == firmward.CategoryMedical && rnd.IntN(100) < 15 {
		d.Tags = append(d.Tags, "icu")
	}
	// A few cameras were port-forwarded for the security contractor.
	if t.category == firmward.CategoryCamera && rnd.IntN(100) < 2 {
		d.Exposure = firmward.ExposureInternetFacing
		d.Notes = strings.TrimSpace(d.Notes + " Port-forwarded for remote viewing by the security contractor.")
	}
	return d
}

// place picks a building, floor and location text for a kind of place.
func (g *generator) place(p place) (building, int, string) {
	rnd := g.rnd
	var candidates []building
	for _, b := range buildings {
		ok := false
		switch p {
		case placeAnywhere, placeCloset, placeMechanical:
			ok = true
		case placeClinical, placeFridge:
			ok = b.clinical || (p == placeFridge && b.code == "RB")
		case placeIndoor, placeDoor:
			ok = b.code != "PG" || p == placeDoor
		case placePlant:
			ok = b.code == "CP" || b.code == "RB"
		}
		if ok {
			candidates = append(candidates, b)
		}
	}
	b := candidates[rnd.IntN(len(candidates))]
	floor := 1 + rnd.IntN(b.floors)
	room := fmt.Sprintf("%d.%03d", floor, 1+rnd.IntN(180))
	var where string
	switch p {
	case placeCloset:
		where = fmt.Sprintf("IDF %d%c", floor, "ABC"[rnd.IntN(3)])
	case placeMechanical:
		where = fmt.Sprintf("mechanical room %d.M%d", floor, 1+rnd.IntN(3))
	case placeDoor:
		where = fmt.Sprintf("door %d.D%02d", floor, 1+rnd.IntN(40))
	case placeFridge:
		where = []string{"medication fridge, room ", "specimen fridge, room ", "vaccine fridge, room "}[rnd.IntN(3)] + room
	case placePlant:
		where = []string{"chiller room", "boiler room", "medical gas manifold room", "electrical switchgear room"}[rnd.IntN(4)]
	default:
		if b.code == "PG" {
			return b, floor, fmt.Sprintf("%s, level %d", b.name, floor)
		}
		where = "room " + room
	}
	return b, floor, fmt.Sprintf("%s, floor %d, %s", b.name, floor, where)
}

// ip hands out the next address of a segment, or "" when it is full.
func (g *generator) ip(seg int) string {
	h := g.hosts[seg]
	if h >= hostsPerSegment {
		return ""
	}
	g.hosts[seg]++
	return fmt.Sprintf("10.%d.%d.%d", g.second, seg*16+h/254, 1+h%254)
}

// cpePlain are the characters a CPE 2.3 value holds without escaping.
const cpePlain = "abcdefghijklmnopqrstuvwxyz0123456789._-"

// cpeVersion turns a firmware version as vendors print it ("V5.7.11 build
// 220929", "MR 29.7.1", "15.2(7)E8") into the version component of a CPE
// 2.3 name: the first word that starts with a digit (after a leading V),
// lower case, with characters outside [a-z0-9._-] escaped.
func cpeVersion(fw string) string {
	word := ""
	for _, f := range strings.Fields(fw) {
		f = strings.TrimPrefix(strings.TrimPrefix(f, "V"), "v")
		if f != "" && f[0] >= '0' && f[0] <= '9' {
			word = f
			break
		}
	}
	if word == "" {
		return "-"
	}
	var b strings.Builder
	for _, r := range strings.ToLower(word) {
		if !strings.ContainsRune(cpePlain, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
