package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(bad, []byte("server = http://127.0.0.1:1\nsever = typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noRoot := filepath.Join(dir, "noroot.conf")
	if err := os.WriteFile(noRoot, []byte("server = http://127.0.0.1:1\ndevice_token = fwd_x\ncontroller_id = c\nstate_dir = s\ninstall_command = true\ntuf_root = missing.json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined"},
		{"extra argument", []string{"-config", bad, "x"}, 2, `unexpected argument "x"`},
		{"bad log level", []string{"-log-level", "loud"}, 2, "use debug, info"},
		{"missing file", []string{"-config", filepath.Join(dir, "none.conf")}, 1, "reading the configuration"},
		{"bad configuration", []string{"-config", bad}, 1, `line 2: unknown key \"sever\"`},
		{"missing TUF root", []string{"-config", noRoot, "-once"}, 1, "reading the trusted TUF root (tuf_root)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			if code := run(t.Context(), tc.args, &stderr); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr does not contain %q:\n%s", tc.want, stderr.String())
			}
		})
	}
}
