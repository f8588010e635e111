package agentconf

import (
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

const good = `# firmward-agent
server = http://127.0.0.1:8080
enrollment_key = "s3cret # not a comment"
controller_id = router-7
state_dir = state
installer = script
install_command = cp "$1" /tmp/fw   # trailing comment
health_command = "test -f /tmp/fw"
health_timeout = 30s
tuf_root = root.json
mqtt_url = tcp://127.0.0.1:1883
install_args = --a  --b
`

func TestParse(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(good), "/etc/firmward")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"server", c.Server, "http://127.0.0.1:8080"},
		{"enrollment key keeps a quoted #", c.EnrollmentKey, "s3cret # not a comment"},
		{"state dir relative to the file", c.StateDir, "/etc/firmward/state"},
		{"tuf root relative to the file", c.TUFRoot, "/etc/firmward/root.json"},
		{"comment cut", c.InstallCommand, `cp "$1" /tmp/fw`},
		{"quoted", c.HealthCommand, "test -f /tmp/fw"},
		{"args", strings.Join(c.InstallArgs, ","), "--a,--b"},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if ch.got != ch.want {
				t.Errorf("got %q, want %q", ch.got, ch.want)
			}
		})
	}
	if c.HealthTimeout != 30*time.Second || c.PollInterval != DefaultPollInterval {
		t.Errorf("durations = %v, %v", c.HealthTimeout, c.PollInterval)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	base := "server = http://h:1\nenrollment_key = k\ncontroller_id = c\nstate_dir = /s\ninstall_command = true\ninsecure_skip_tuf = true\n"
	if _, err := Parse([]byte(base), ""); err != nil {
		t.Fatalf("base config: %v", err)
	}
	cases := []struct{ name, text, want string }{
		{"unknown key", base + "sever = x\n", `line 7: unknown key "sever"`},
		{"repeated key", base + "server = http://h:2\n", "line 7: server is set already on line 1"},
		{"no equals", base + "just words\n", "line 7: want key = value"},
		{"bad duration", base + "health_timeout = soon\n", "health_timeout"},
		{"negative duration", base + "poll_interval = -1s\n", "positive"},
		{"bad bool", strings.Replace(base, "insecure_skip_tuf = true", "insecure_skip_tuf = maybe", 1), "is not true or false"},
		{"unterminated quote", base + "name = \"abc\n", "unterminated"},
		{"text after quote", base + "name = \"abc\" def\n", "text after"},
		{"bad server", strings.Replace(base, "http://h:1", "ftp://h", 1), "server must be an http"},
		{"no credential", strings.Replace(base, "enrollment_key = k\n", "", 1), "set device_token or enrollment_key"},
		{"bad token", base + "device_token = abc\n", "must start with fwd_"},
		{"bad controller", strings.Replace(base, "= c\n", "= a b\n", 1), "controller_id"},
		{"bad installer", base + "installer = apt\n", "installer must be"},
		{"script needs command", strings.Replace(base, "install_command = true\n", "", 1), "install_command is required"},
		{"tuf required", strings.Replace(base, "insecure_skip_tuf = true\n", "", 1), "tuf_root is required"},
		{"bad mqtt", base + "mqtt_url = http://x\n", "mqtt_url"},
		{"not utf-8", base + "name = \xff\n", "not UTF-8"},
		{"NUL", base + "name = \"a\\x00b\"\n", "NUL"},
		{"too large", strings.Repeat("#", MaxFileBytes+1), "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.text), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tc.want)
			}
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Errorf("code = %s, want invalid", firmward.ErrorCode(err))
			}
		})
	}
}

func TestRAUCNeedsNoCommand(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte("server=https://fw.example\ndevice_token=fwd_x\ncontroller_id=c\nstate_dir=/s\ninstaller=rauc\ntuf_root=/r.json\n"), "")
	if err != nil || c.Installer != InstallerRAUC || c.DeviceToken != "fwd_x" {
		t.Fatalf("Parse = %+v, %v", c, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("server = \"http://a\\u00e9\"\n"))
	f.Add([]byte("= x\n#\n\n  k = \"\n"))
	f.Add([]byte("health_timeout = 9223372036854775807ns\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "/d")
		if err == nil {
			if c.Validate() != nil {
				t.Fatal("Parse accepted a configuration Validate refuses")
			}
		} else if firmward.ErrorCode(err) != firmward.EINVALID {
			t.Fatalf("error code %s for %q", firmward.ErrorCode(err), data)
		}
	})
}
