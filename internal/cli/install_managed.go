package cli

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/settings"
)

// `ccotel install --scope managed`: the fleet's way. Claude Code's managed
// settings file (every user's hooks) and the system-wide config file
// (every user's collector), both 0644 in directories 0755, and no secret
// in either: each user's certificate and key stay in their own home,
// named with "~" so that each user's ccotel resolves them.

// Per-user defaults of the managed config: where `ccotel certs install`
// puts a developer's certificate and key.
const (
	managedClientCert = "~/.config/ccotel/client.pem"
	managedClientKey  = "~/.config/ccotel/client-key.pem"
)

func (s *settingsFlags) managed() bool { return s.scope == "managed" && s.settings == "" }

// settingsMode is the mode install forces on the settings file (0: keep
// the file's own, 0600 for a new one), creating the managed file's
// directory 0755 first.
func (s *settingsFlags) settingsMode(path string) (fs.FileMode, error) {
	if !s.managed() {
		return 0, nil
	}
	if !s.dryRun {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return 0, err
		}
	}
	return settings.ManagedMode, nil
}

// managedCollector checks the collector flags for the system-wide config
// file: the endpoint as for a user; the certificate and key as per-user
// paths ("~/…", or absolute), not looked at here, defaulting to where
// `ccotel certs install` puts them; the server CA copied into the system
// directory (0644), so that every user can read it.
func managedCollector(col config.Collector, home string, dryRun bool) (set []config.Setting, warnings []string, err error) {
	set, warnings, err = config.Collector{Endpoint: col.Endpoint}.Settings(home)
	if err != nil {
		return nil, nil, err
	}
	if col.Endpoint != "" && strings.HasPrefix(col.Endpoint, "https://") || col.ClientCert != "" || col.ClientKey != "" {
		for _, f := range []struct{ key, flag, value, def string }{
			{"client_cert", "--client-cert", col.ClientCert, managedClientCert},
			{"client_key", "--client-key", col.ClientKey, managedClientKey},
		} {
			v := f.value
			if v == "" {
				v = f.def
			}
			if !strings.HasPrefix(v, "~/") && !filepath.IsAbs(v) {
				return nil, nil, fmt.Errorf("%s %s: with --scope managed, give each user's path as ~/… (or an absolute path)", f.flag, v)
			}
			set = append(set, config.Setting{Key: f.key, Value: v})
		}
	}
	if col.CA == "" {
		return set, warnings, nil
	}
	if _, _, err := (config.Collector{CA: col.CA}).Settings(home); err != nil {
		return nil, nil, err
	}
	pem, err := os.ReadFile(config.ExpandHome(col.CA, home))
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Contains(pem, []byte("-----BEGIN CERTIFICATE-----")) || bytes.Contains(pem, []byte("PRIVATE KEY")) {
		return nil, nil, fmt.Errorf("--ca %s: want PEM certificates only (it is copied where every user can read it)", col.CA)
	}
	dst := filepath.Join(config.SystemDir(nil), "ca.pem")
	if !dryRun {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, nil, err
		}
		if err := settings.WriteFileAtomic(dst, pem, config.SystemFileMode); err != nil {
			return nil, nil, err
		}
	}
	return append(set, config.Setting{Key: "ca", Value: dst}), warnings, nil
}

// collectorFile is where install writes the collector settings and how.
func (s *settingsFlags) collectorFile() (path string, write func(string, []config.Setting, bool) (settings.Result, error)) {
	if s.managed() {
		return config.SystemConfigPath(nil), config.WriteSystemFile
	}
	return config.ConfigFilePath(nil), config.WriteFile
}
