package recog

import (
	"embed"
	"os"
)

//go:embed rules/*.xml
var builtinRules embed.FS

// Builtin returns firmward's own rules (the rules/ folder of this package):
// the device families of firmward's sample inventories, with the model and
// firmware version wherever a device's strings carry them.
func Builtin() (*Set, error) {
	return LoadFS(builtinRules, "rules")
}

// LoadDir reads every *.xml rule file of the directory dir.
func LoadDir(dir string) (*Set, error) {
	return LoadFS(os.DirFS(dir), ".")
}
