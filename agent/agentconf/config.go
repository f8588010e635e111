// Package agentconf reads firmward-agent's configuration file: one
// "key = value" setting per line, '#' comments, values optionally in
// double quotes (Go escapes). Unknown keys, repeated keys and bad values
// are errors naming the line, so a typo never silently falls back to a
// default.
package agentconf

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firmward/firmward"
)

// Installers the agent knows.
const (
	InstallerScript   = "script"
	InstallerRAUC     = "rauc"
	InstallerSWUpdate = "swupdate"
)

// Defaults.
const (
	DefaultHealthTimeout = 2 * time.Minute
	DefaultPollInterval  = 5 * time.Minute
	// MaxFileBytes bounds the configuration file.
	MaxFileBytes = 64 << 10
)

// Config is the agent's configuration.
type Config struct {
	// Server is firmward's base URL (http://host:port).
	Server string
	// EnrollmentKey is the server's pre-shared enrollment key; used once,
	// when the state directory holds no device token yet.
	EnrollmentKey string
	// DeviceToken is a pre-registered device token (firmward device token
	// ID); it wins over EnrollmentKey.
	DeviceToken string
	// ControllerID names the device towards the server.
	ControllerID string
	// DeviceID is the device's number at the server, needed for MQTT
	// nudges with a pre-registered device_token (enrollment learns it).
	DeviceID int64
	// Name, Manufacturer, Model and Serial describe the device at enrollment.
	Name, Manufacturer, Model, Serial string
	// HardwareVersion is reported each poll.
	HardwareVersion string
	// FirmwareVersionCommand or FirmwareVersionFile tell the installed
	// firmware version (the command's trimmed output, or the file's first
	// line); the command wins.
	FirmwareVersionCommand string
	FirmwareVersionFile    string
	// StateDir holds the token, the action state, downloads and TUF
	// metadata.
	StateDir string
	// Installer is script, rauc or swupdate.
	Installer string
	// InstallCommand is the script installer's command; the artifact path
	// is its $1 (and $FIRMWARD_ARTIFACT).
	InstallCommand string
	// InstallArgs are extra arguments for rauc install / swupdate -i.
	InstallArgs []string
	// CommitCommand and RollbackCommand override the installer's commit
	// and rollback (required for script's rollback).
	CommitCommand   string
	RollbackCommand string
	// RestartCommand runs after an install (typically a reboot); empty
	// means none.
	RestartCommand string
	// HealthCommand decides whether the new firmware works (exit 0);
	// empty means healthy.
	HealthCommand string
	HealthTimeout time.Duration
	// TUFRoot is the root.json the device trusts; required unless
	// InsecureSkipTUF.
	TUFRoot         string
	InsecureSkipTUF bool
	// MQTTURL (tcp://host:1883) subscribes to nudges; empty is off.
	MQTTURL string
	// PollInterval is used until the server names one.
	PollInterval time.Duration
}

type field struct {
	set  func(c *Config, v string) error
	help string
}

func str(p func(c *Config) *string) func(c *Config, v string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func dur(p func(c *Config) *time.Duration) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration (such as 30s or 5m)", v)
		}
		*p(c) = d
		return nil
	}
}

// fields lists every key; Keys returns their names for documentation.
var fields = map[string]field{
	"server":                   {str(func(c *Config) *string { return &c.Server }), "firmward's base URL"},
	"enrollment_key":           {str(func(c *Config) *string { return &c.EnrollmentKey }), "pre-shared enrollment key"},
	"device_token":             {str(func(c *Config) *string { return &c.DeviceToken }), "pre-registered device token (fwd_…)"},
	"controller_id":            {str(func(c *Config) *string { return &c.ControllerID }), "the device's controller id"},
	"name":                     {str(func(c *Config) *string { return &c.Name }), "device name at enrollment"},
	"manufacturer":             {str(func(c *Config) *string { return &c.Manufacturer }), "manufacturer at enrollment"},
	"model":                    {str(func(c *Config) *string { return &c.Model }), "model at enrollment"},
	"serial":                   {str(func(c *Config) *string { return &c.Serial }), "serial number at enrollment"},
	"hardware_version":         {str(func(c *Config) *string { return &c.HardwareVersion }), "hardware version"},
	"firmware_version_command": {str(func(c *Config) *string { return &c.FirmwareVersionCommand }), "command printing the firmware version"},
	"firmware_version_file":    {str(func(c *Config) *string { return &c.FirmwareVersionFile }), "file holding the firmware version"},
	"state_dir":                {str(func(c *Config) *string { return &c.StateDir }), "state directory"},
	"installer":                {func(c *Config, v string) error { c.Installer = v; return nil }, "script, rauc or swupdate"},
	"install_command":          {str(func(c *Config) *string { return &c.InstallCommand }), "script installer command ($1 is the artifact)"},
	"install_args": {func(c *Config, v string) error {
		c.InstallArgs = strings.Fields(v)
		return nil
	}, "extra arguments for rauc install or swupdate -i"},
	"commit_command":   {str(func(c *Config) *string { return &c.CommitCommand }), "command that commits a healthy install"},
	"rollback_command": {str(func(c *Config) *string { return &c.RollbackCommand }), "command that rolls an install back"},
	"restart_command":  {str(func(c *Config) *string { return &c.RestartCommand }), "command run after an install (a reboot)"},
	"health_command":   {str(func(c *Config) *string { return &c.HealthCommand }), "health check (exit 0: healthy)"},
	"health_timeout":   {dur(func(c *Config) *time.Duration { return &c.HealthTimeout }), "health check timeout"},
	"tuf_root":         {str(func(c *Config) *string { return &c.TUFRoot }), "trusted TUF root.json"},
	"insecure_skip_tuf": {func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		c.InsecureSkipTUF = b
		return nil
	}, "verify sha256 only (testing)"},
	"device_id": {func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive number", v)
		}
		c.DeviceID = n
		return nil
	}, "the device's id at the server (for MQTT with device_token)"},
	"mqtt_url":      {str(func(c *Config) *string { return &c.MQTTURL }), "MQTT broker URL for nudges"},
	"poll_interval": {dur(func(c *Config) *time.Duration { return &c.PollInterval }), "poll interval until the server names one"},
}

// Keys returns every configuration key, sorted.
func Keys() []string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Parse reads a configuration file's content. Relative paths (state_dir,
// tuf_root, firmware_version_file) are taken relative to dir. It returns
// an EINVALID error naming the line or the missing setting.
func Parse(data []byte, dir string) (*Config, error) {
	if len(data) > MaxFileBytes {
		return nil, firmward.Errorf(firmward.EINVALID, "the configuration is larger than %d bytes", MaxFileBytes)
	}
	if !utf8.Valid(data) {
		return nil, firmward.Errorf(firmward.EINVALID, "the configuration is not UTF-8 text")
	}
	c := &Config{Installer: InstallerScript, HealthTimeout: DefaultHealthTimeout, PollInterval: DefaultPollInterval}
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxFileBytes+1)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok || key == "" {
			return nil, firmward.Errorf(firmward.EINVALID, "line %d: want key = value", n)
		}
		f, known := fields[key]
		if !known {
			return nil, firmward.Errorf(firmward.EINVALID, "line %d: unknown key %q (known: %s)", n, clip(key), strings.Join(Keys(), ", "))
		}
		if prev, dup := seen[key]; dup {
			return nil, firmward.Errorf(firmward.EINVALID, "line %d: %s is set already on line %d", n, key, prev)
		}
		seen[key] = n
		v, err := unquote(val)
		if err != nil {
			return nil, firmward.Errorf(firmward.EINVALID, "line %d: %s: %v", n, key, err)
		}
		if strings.ContainsRune(v, 0) {
			return nil, firmward.Errorf(firmward.EINVALID, "line %d: %s holds a NUL byte", n, key)
		}
		if err := f.set(c, v); err != nil {
			return nil, firmward.Errorf(firmward.EINVALID, "line %d: %s: %v", n, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, firmward.Errorf(firmward.EINVALID, "reading the configuration: %v", err)
	}
	for _, p := range []*string{&c.StateDir, &c.TUFRoot, &c.FirmwareVersionFile} {
		if *p != "" && !filepath.IsAbs(*p) && dir != "" {
			*p = filepath.Join(dir, *p)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// unquote removes a value's double quotes, if any; a '#' after an
// unquoted value's whitespace starts a comment.
func unquote(v string) (string, error) {
	if strings.HasPrefix(v, `"`) {
		s, err := strconv.QuotedPrefix(v)
		if err != nil {
			return "", fmt.Errorf("unterminated or bad quoted value")
		}
		rest := strings.TrimSpace(v[len(s):])
		if rest != "" && rest[0] != '#' {
			return "", fmt.Errorf("text after the quoted value")
		}
		return strconv.Unquote(s)
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v, nil
}

// Validate checks that the settings fit together.
func (c *Config) Validate() error {
	var d []firmward.ErrorDetail
	add := func(field, reason string) { d = append(d, firmward.ErrorDetail{Field: field, Reason: reason}) }
	if u, err := url.Parse(c.Server); c.Server == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("server", "must be an http:// or https:// URL")
	}
	if c.DeviceToken == "" && c.EnrollmentKey == "" {
		add("device_token", "set device_token or enrollment_key")
	}
	if c.DeviceToken != "" && !strings.HasPrefix(c.DeviceToken, firmward.DeviceTokenPrefix) {
		add("device_token", "must start with "+firmward.DeviceTokenPrefix)
	}
	if why := firmward.ValidControllerID(c.ControllerID); why != "" {
		add("controller_id", why)
	}
	if c.StateDir == "" {
		add("state_dir", "is required")
	}
	switch c.Installer {
	case InstallerScript:
		if c.InstallCommand == "" {
			add("install_command", "is required with installer = script")
		}
	case InstallerRAUC, InstallerSWUpdate:
	default:
		add("installer", "must be script, rauc or swupdate")
	}
	if c.TUFRoot == "" && !c.InsecureSkipTUF {
		add("tuf_root", "is required (the server's /tuf/root.json); insecure_skip_tuf = true checks sha256 only")
	}
	if c.MQTTURL != "" {
		if u, err := url.Parse(c.MQTTURL); err != nil || !slices.Contains([]string{"tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss"}, u.Scheme) || u.Host == "" {
			add("mqtt_url", "must be a tcp://host:port (or ssl://, ws://) URL")
		}
	}
	if len(d) > 0 {
		msg := make([]string, len(d))
		for i, x := range d {
			msg[i] = x.Field + " " + x.Reason
		}
		return &firmward.Error{Code: firmward.EINVALID, Message: "configuration: " + strings.Join(msg, "; "), Details: d}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
