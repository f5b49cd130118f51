package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ccotel/ccotel/internal/config"
	"github.com/ccotel/ccotel/internal/settings"
)

// doctor and status judge the configuration a hook gets, not the
// terminal's: Claude Code puts the env blocks of its settings files in
// every hook's environment, over the shell's (managed settings first,
// then local, project, user), and removes OTEL_* from it.

// claudeSettingsFiles are the settings files whose env blocks and hooks
// Claude Code applies here, highest precedence first: the managed file,
// then explicit (doctor --settings) or the local, project and user files.
func claudeSettingsFiles(explicit string) []string {
	files := []string{settings.ManagedPath()}
	if explicit != "" {
		return append(files, explicit)
	}
	files = append(files, filepath.Join(".claude", "settings.local.json"), filepath.Join(".claude", "settings.json"))
	if home, err := os.UserHomeDir(); err == nil {
		if p, err := (&settingsFlags{scope: "user"}).path(home); err == nil {
			files = append(files, p)
		}
	}
	return files
}

// hookLoadOptions are LoadOptions for the environment a hook gets: each
// variable an env block of files sets (OTEL_* excepted) wins over the
// process's own, and its source names the file.
func hookLoadOptions(flags map[string]string, files []string) config.LoadOptions {
	env, from := map[string]string{}, map[string]string{}
	for i := len(files) - 1; i >= 0; i-- { // lowest precedence first
		src, err := settings.ReadFile(files[i])
		if err != nil {
			continue
		}
		block, err := settings.EnvBlock(src)
		if err != nil {
			continue
		}
		for k, v := range block {
			if strings.HasPrefix(k, "OTEL_") {
				continue
			}
			env[k], from[k] = v, files[i]
		}
	}
	return config.LoadOptions{
		Flags:   flags,
		EnvFrom: from,
		Getenv: func(k string) (string, bool) {
			if v, ok := env[k]; ok {
				return v, true
			}
			return os.LookupEnv(k)
		},
	}
}

// configFiles says which files the configuration was read from, for
// doctor and status.
func configFiles(cfg *config.Config) string {
	var parts []string
	if cfg.ConfigFile != "" {
		parts = append(parts, "user "+cfg.ConfigFile)
	} else {
		parts = append(parts, "user none ("+config.ConfigFilePath(nil)+")")
	}
	if cfg.SystemConfigFile != "" {
		parts = append(parts, "system "+cfg.SystemConfigFile)
	} else {
		parts = append(parts, "system none ("+config.SystemConfigPath(nil)+")")
	}
	seen := map[string]bool{}
	for _, k := range config.ConfigKeys {
		if _, f, ok := strings.Cut(cfg.Sources[k], " (from "); ok && !seen[f] {
			seen[f] = true
			parts = append(parts, fmt.Sprintf("env block of %s", strings.TrimSuffix(f, ")")))
		}
	}
	return strings.Join(parts, "; ")
}
