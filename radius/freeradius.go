package radius

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/firmward/firmward/nac"
)

// FreeRADIUSConfig describes how a FreeRADIUS 3 server should call
// firmward; its methods write the two files users add to their
// configuration (docs/NAC.md explains them). The test that runs the real
// FreeRADIUS writes its configuration with them too.
type FreeRADIUSConfig struct {
	// URL is firmward's base URL as FreeRADIUS reaches it
	// ("http://127.0.0.1:8080", or https://… with the rest module's tls
	// section set up).
	URL string
	// Secret is sent in SecretHeader; printable ASCII without '"' or '\'.
	Secret string
	// FailOpen accepts devices when firmward is unreachable or answers
	// 5xx (into FailOpenVLAN when set, else without VLAN attributes: the
	// port's own VLAN); the default, fail-closed, rejects them.
	FailOpen     bool
	FailOpenVLAN string
	// Timeout bounds each HTTP call (default 2 s).
	Timeout time.Duration
	// Listen is the address the virtual server listens on ("*" for all;
	// default 127.0.0.1) and AuthPort/AcctPort its ports (default 1812 and
	// 1813).
	Listen             string
	AuthPort, AcctPort int
}

// ModuleName is the rlm_rest instance the configuration defines.
const ModuleName = "firmward"

func (c FreeRADIUSConfig) check() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("radius: firmward URL %q must be http://host:port or https://host:port", c.URL)
	}
	if len(c.Secret) < 16 {
		return fmt.Errorf("radius: the shared secret must be at least 16 bytes")
	}
	for _, r := range c.Secret + c.URL + c.Listen {
		if r < 0x21 || r > 0x7e || r == '"' || r == '\\' || r == '\'' {
			return fmt.Errorf("radius: the secret, URL and listen address must be printable ASCII without spaces, quotes or backslashes")
		}
	}
	if c.FailOpenVLAN != "" && !nac.ValidVLAN(c.FailOpenVLAN) {
		return fmt.Errorf("radius: fail-open VLAN %q is not a VLAN id (1-4094) or VLAN name", c.FailOpenVLAN)
	}
	return nil
}

// RestModule returns the rlm_rest module instance (for
// mods-enabled/firmward), or an error naming the bad setting.
func (c FreeRADIUSConfig) RestModule() (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	secs := fmt.Sprintf("%.1f", timeout.Seconds())
	var b strings.Builder
	fmt.Fprintf(&b, `# firmward NAC policy endpoint (rlm_rest). Written by firmward.
rest %s {
	connect_uri = "%s"
	connect_timeout = %s
`, ModuleName, strings.TrimRight(c.URL, "/"), secs)
	for _, sec := range []struct{ name, path string }{
		{"authorize", PathAuthorize}, {"post-auth", PathPostAuth}, {"accounting", PathAccounting},
	} {
		fmt.Fprintf(&b, `	%s {
		uri = "${..connect_uri}%s"
		method = 'post'
		body = 'json'
		timeout = %s
	}
`, sec.name, sec.path, secs)
	}
	b.WriteString(`	pool {
		start = 0
		min = 0
		max = ${thread[pool].max_servers}
		spare = 1
		uses = 0
		retry_delay = 1
		lifetime = 0
		idle_timeout = 60
	}
}
`)
	return b.String(), nil
}

// Site returns a virtual server (for sites-enabled/firmward) that
// authorizes MAC authentication bypass and 802.1X requests through
// firmward, records post-auth and accounting, and applies the fail-open or
// fail-closed choice.
func (c FreeRADIUSConfig) Site() (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	listen := c.Listen
	if listen == "" {
		listen = "127.0.0.1"
	}
	auth, acct := c.AuthPort, c.AcctPort
	if auth == 0 {
		auth = 1812
	}
	if acct == 0 {
		acct = 1813
	}
	header := fmt.Sprintf(`update control {
			&REST-HTTP-Header += "%s: %s"
		}`, SecretHeader, c.Secret)
	unreachable := `# fail-closed: firmward unreachable or failing -> Access-Reject
			reject`
	if c.FailOpen {
		unreachable = `# fail-open: firmward unreachable or failing -> Access-Accept
			update control {
				&Auth-Type := Accept
			}`
		if c.FailOpenVLAN != "" {
			unreachable += fmt.Sprintf(`
			update reply {
				&Tunnel-Type := VLAN
				&Tunnel-Medium-Type := IEEE-802
				&Tunnel-Private-Group-Id := "%s"
			}`, c.FailOpenVLAN)
		}
	}
	mode := "fail-closed"
	if c.FailOpen {
		mode = "fail-open"
	}
	return fmt.Sprintf(`# firmward NAC virtual server (%[1]s). Written by firmward.
server firmward {
	listen {
		type = auth
		ipaddr = %[2]s
		port = %[3]d
	}
	listen {
		type = acct
		ipaddr = %[2]s
		port = %[4]d
	}

	authorize {
		%[5]s
		# 200 + VLAN -> updated, 204 -> ok, 401 -> reject (unknown or
		# quarantined without a VLAN), 403 -> userlock (wrong secret) and
		# 400 -> invalid (no MAC in the request) both reject; 5xx or no
		# answer -> fail, handled below.
		%[6]s {
			fail = 1
		}
		if (fail) {
			%[7]s
		}
		elsif (ok || updated) {
			update control {
				&Auth-Type := Accept
			}
		}
	}

	authenticate {
	}

	post-auth {
		%[5]s
		# records which NAS authenticated the MAC (for CoA); a failure
		# here never changes the answer.
		%[6]s {
			fail = 1
			invalid = 1
		}
		ok
		Post-Auth-Type REJECT {
			ok
		}
	}

	preacct {
		ok
	}

	accounting {
		%[5]s
		%[6]s {
			fail = 1
			invalid = 1
		}
		ok
	}
}
`, mode, listen, auth, acct, header, ModuleName, unreachable), nil
}
