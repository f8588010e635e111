package radius_test

import (
	"strings"
	"testing"

	"github.com/firmward/firmward/radius"
)

func TestFreeRADIUSConfigChecks(t *testing.T) {
	t.Parallel()
	good := radius.FreeRADIUSConfig{URL: "http://127.0.0.1:8080", Secret: testSecret}
	tests := []struct {
		name   string
		change func(*radius.FreeRADIUSConfig)
		want   string
	}{
		{"good", func(*radius.FreeRADIUSConfig) {}, ""},
		{"no scheme", func(c *radius.FreeRADIUSConfig) { c.URL = "127.0.0.1:8080" }, "must be http://host:port"},
		{"ftp", func(c *radius.FreeRADIUSConfig) { c.URL = "ftp://h/" }, "must be http://host:port"},
		{"short secret", func(c *radius.FreeRADIUSConfig) { c.Secret = "short" }, "at least 16 bytes"},
		{"quote in secret", func(c *radius.FreeRADIUSConfig) { c.Secret = `0123456789abcdef"; reject` }, "without spaces, quotes or backslashes"},
		{"newline in listen", func(c *radius.FreeRADIUSConfig) { c.Listen = "127.0.0.1\n}" }, "printable ASCII"},
		{"bad fail-open VLAN", func(c *radius.FreeRADIUSConfig) { c.FailOpen, c.FailOpenVLAN = true, "0" }, "fail-open VLAN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tt.change(&c)
			mod, err1 := c.RestModule()
			site, err2 := c.Site()
			for _, err := range []error{err1, err2} {
				if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
					t.Errorf("err %v, want %q", err, tt.want)
				}
			}
			if tt.want == "" && (!strings.Contains(mod, `uri = "${..connect_uri}/nac/radius/authorize"`) ||
				!strings.Contains(site, radius.SecretHeader+": "+testSecret) || !strings.Contains(site, "reject")) {
				t.Errorf("module:\n%s\nsite:\n%s", mod, site)
			}
		})
	}
}
