package radius

import (
	"slices"
	"strings"
	"testing"

	firmward "github.com/firmward/firmward"
)

// A body as FreeRADIUS 3.2 rlm_rest sends it for a MAB Access-Request.
const freeradiusBody = `{"User-Name":{"type":"string","value":["3cd92b000013"]},"User-Password":{"type":"string","value":["3cd92b000013"]},"NAS-IP-Address":{"type":"ipaddr","value":["127.0.0.1"]},"Calling-Station-Id":{"type":"string","value":["3C-D9-2B-00-00-13"]},"Service-Type":{"type":"integer","value":["Call-Check"]},"Event-Timestamp":{"type":"date","value":["Nov 25 2026 01:02:03 UTC"]},"Message-Authenticator":{"type":"octets","value":["0x00"]},"NAS-Port":{"attr_num":5,"type":"integer","value":[7]}}`

func TestParseBody(t *testing.T) {
	t.Parallel()
	req, err := ParseBody([]byte(freeradiusBody))
	if err != nil {
		t.Fatal(err)
	}
	if got := req["Service-Type"]; got.Type != "integer" || !slices.Equal(got.Values, []string{"Call-Check"}) {
		t.Errorf("Service-Type %+v", got)
	}
	if got := req["NAS-Port"]; !slices.Equal(got.Values, []string{"7"}) {
		t.Errorf("NAS-Port %+v", got)
	}
	mac, err := req.MAC()
	if err != nil || mac != "3c:d9:2b:00:00:13" {
		t.Errorf("MAC %q, %v", mac, err)
	}
}

func TestParseBodyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, want string }{
		{"empty", ``, "body is not JSON: unexpected end of input"},
		{"array", `[]`, "body must be a JSON object of attributes, not an array"},
		{"string", `"x"`, "not a string"},
		{"truncated", `{"User-Name":{"type":"string","value":["a"]`, "unexpected end of input"},
		{"trailing data", `{} {}`, "data after the JSON object"},
		{"attribute is a string", `{"User-Name":"x"}`, `attribute "User-Name" must be an object with "type" and "value", not a string`},
		{"attribute is null", `{"User-Name":null}`, `attribute "User-Name" has no "type"`},
		{"no type", `{"User-Name":{"value":["a"]}}`, `has no "type"`},
		{"empty type", `{"User-Name":{"type":"","value":["a"]}}`, `has no "type"`},
		{"type not a string", `{"User-Name":{"type":5,"value":["a"]}}`, `attribute "User-Name": json: cannot unmarshal number`},
		{"unknown field", `{"User-Name":{"type":"string","value":["a"],"op":":="}}`, `unknown field "op"`},
		{"object value", `{"User-Name":{"type":"string","value":[{"a":1}]}}`, "value 1: is an object; want a string or a number"},
		{"nested array", `{"User-Name":{"type":"string","value":["a",["b"]]}}`, "value 2: is an array"},
		{"null value", `{"User-Name":{"type":"string","value":[null]}}`, "value 1: is null"},
		{"empty name", `{"":{"type":"string","value":["a"]}}`, "empty name"},
		{"duplicate", `{"A":{"type":"string","value":["a"]},"A":{"type":"string","value":["b"]}}`, `"A" appears twice`},
		{"bad syntax", `{"A":{"type":"string","value":["a"]},}`, "invalid character"},
		{"too many values", `{"A":{"type":"string","value":[` + strings.Repeat(`"a",`, 64) + `"a"]}}`, "more than 64 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseBody([]byte(tt.body))
			if err == nil {
				t.Fatal("no error")
			}
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Errorf("code %q", firmward.ErrorCode(err))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseBodyScalarsAndLimits(t *testing.T) {
	t.Parallel()
	req, err := ParseBody([]byte(`{"A":{"type":"string","value":"one"},"B":{"type":"boolean","value":[true,false]},"C":{"type":"integer64","value":[18446744073709551615]},"D":{"type":"future-type","value":[]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(req["A"].Values, []string{"one"}) || !slices.Equal(req["B"].Values, []string{"true", "false"}) ||
		!slices.Equal(req["C"].Values, []string{"18446744073709551615"}) || req["D"].Type != "future-type" {
		t.Errorf("parsed %+v", req)
	}
	if _, ok, err := req.Value("D"); ok || err != nil {
		t.Errorf("attribute without values: ok=%v err=%v", ok, err)
	}
	var b strings.Builder
	b.WriteString("{")
	for i := range maxAttributes + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"A` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + `":{"type":"string","value":["v"]}`)
	}
	b.WriteString("}")
	if _, err := ParseBody([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "more than 512 attributes") {
		t.Errorf("too many attributes: %v", err)
	}
}

func TestMACNotations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		userName, calling string
		want              string
	}{
		{"3cd92b000013", "", "3c:d9:2b:00:00:13"},
		{"3CD92B000013", "", "3c:d9:2b:00:00:13"},
		{"3c-d9-2b-00-00-13", "", "3c:d9:2b:00:00:13"},
		{"3c:d9:2b:00:00:13", "", "3c:d9:2b:00:00:13"},
		{"3cd9.2b00.0013", "", "3c:d9:2b:00:00:13"},
		{" 3c d9 2b 00 00 13 ", "", "3c:d9:2b:00:00:13"},
		{"bob@example.org", "3C-D9-2B-00-00-13", "3c:d9:2b:00:00:13"},
		{"3cd92b000013", "3c-d9-2b-00-00-13:ssid", "3c:d9:2b:00:00:13"},
		{"3c:d92b:00:00:13", "", ""},
		{"3cd92b00001", "", ""},
		{"3cd92b0000134", "", ""},
		{"3cd92b00001g", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		req := Request{}
		if tt.userName != "" {
			req["User-Name"] = Attribute{Type: "string", Values: []string{tt.userName}}
		}
		if tt.calling != "" {
			req["Calling-Station-Id"] = Attribute{Type: "string", Values: []string{tt.calling}}
		}
		got, err := req.MAC()
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("User-Name %q Calling-Station-Id %q: %q, %v; want %q", tt.userName, tt.calling, got, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), "no MAC address in the request") {
			t.Errorf("error %q", err)
		}
	}
}
