package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
	"github.com/ccotel/ccotel/internal/settings"
)

// The system-wide config file: what a fleet's admin sets for every user
// of a machine (`ccotel install --scope managed` writes it), below each
// user's own file. It is read by every user, so it holds no secrets; a
// path in it that starts with "~" is each user's own (resolved with the
// HOME of whoever loads it: client_cert = "~/.config/ccotel/client.pem").

// DefaultSystemDir holds the system-wide config file (config.toml) and the
// server CA that install copies there (ca.pem).
const DefaultSystemDir = "/etc/ccotel"

// SystemDir is $CCOTEL_SYSTEM_DIR when set (tests, unusual layouts), else
// DefaultSystemDir. getenv nil means os.LookupEnv.
func SystemDir(getenv func(string) (string, bool)) string {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	if d, _ := getenv("CCOTEL_SYSTEM_DIR"); filepath.IsAbs(d) {
		return d
	}
	return DefaultSystemDir
}

// SystemConfigPath is the system-wide config file: SystemDir/config.toml.
func SystemConfigPath(getenv func(string) (string, bool)) string {
	return filepath.Join(SystemDir(getenv), "config.toml")
}

// systemLayer is which keys of the loader's file came from the system
// file, and that file's source and directory.
type systemLayer struct {
	keys     map[string]bool
	src, dir string
}

// readSystemFile merges the system-wide config file under the user's: a
// key the user's file sets wins whole (tables included). A missing file
// is fine; an unreadable one is a warning (the user's own configuration
// still works); one that does not parse is an error, like the user's.
// It is read as the user's is (readConfigFile): a regular file only,
// bounded, and not applied when a user other than root (or this one) owns
// it or group or others may write it.
func (l *loader) readSystemFile() error {
	path := SystemConfigPath(l.getenv)
	b, err := readConfigFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		l.warnf("system config file %s cannot be read: %v (the admin's settings in it are not applied)", path, unwrapPath(err))
		return nil
	}
	var m map[string]any
	if _, err := toml.Decode(string(b), &m); err != nil {
		return fmt.Errorf("ccotel: system config file %s: %w", path, err)
	}
	l.cfg.SystemConfigFile = path
	l.system = systemLayer{keys: map[string]bool{}, src: "file " + path, dir: filepath.Dir(path)}
	if l.file == nil {
		l.file = map[string]any{}
	}
	for k, v := range m {
		if !isConfigKey(k) {
			l.warnf("system config file %s: unknown key %q (ignored)", path, k)
			continue
		}
		if k == "headers" {
			l.warnf("system config file %s sets headers: every user of this machine can read them; put secrets in each user's own file", path)
		}
		if _, set := l.file[k]; !set {
			l.file[k] = v
			l.system.keys[k] = true
		}
	}
	return nil
}

// fileSrcOf is the source of a config-file key: the user's file, or the
// system-wide one.
func (l *loader) fileSrcOf(key string) string {
	if l.system.keys[key] {
		return l.system.src
	}
	return l.fileSrc
}

// fileDirOf is the directory a relative path in key's file is taken from.
func (l *loader) fileDirOf(key string) string {
	if l.system.keys[key] {
		return l.system.dir
	}
	return l.fileDir
}

// envSrc is the source of a variable: "env NAME", and the settings file
// whose env block set it, if one did.
func (l *loader) envSrc(name string) string {
	if f := l.envFrom[name]; f != "" {
		return "env " + name + " (from " + f + ")"
	}
	return "env " + name
}

// WriteSystemFile sets keys in the system-wide config file (see SetKeys):
// mode 0644 in a directory created 0755, since every user reads it; it
// must hold no secrets.
func WriteSystemFile(path string, set []Setting, dryRun bool) (settings.Result, error) {
	if !dryRun {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return settings.Result{Path: path}, err
		}
	}
	return settings.EditFileMode(path, func(src []byte) ([]byte, error) { return SetKeys(src, set) }, dryRun, SystemFileMode)
}

// SystemFileMode is the mode of the system-wide config file and the CA
// copied beside it.
const SystemFileMode = 0o644
