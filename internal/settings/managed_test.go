package settings

import "testing"

// Claude Code's managed settings file per OS (its docs; 2.1.328's code
// reads /etc/claude-code on Linux and has no override), and the test
// override install and doctor honour.
func TestManagedPath(t *testing.T) {
	for goos, want := range map[string]string{
		"linux":  "/etc/claude-code/managed-settings.json",
		"darwin": "/Library/Application Support/ClaudeCode/managed-settings.json",
	} {
		if got := managedPathFor(goos); got != want {
			t.Errorf("%s: %s, want %s", goos, got, want)
		}
	}
	t.Setenv("CCOTEL_MANAGED_SETTINGS", "/tmp/x/managed-settings.json")
	if got := ManagedPath(); got != "/tmp/x/managed-settings.json" {
		t.Errorf("override: %s", got)
	}
	env, err := EnvBlock([]byte(`{"env": {"CCOTEL_ENDPOINT": "https://x", "N": 3}, "hooks": {}}`))
	if err != nil || len(env) != 1 || env["CCOTEL_ENDPOINT"] != "https://x" {
		t.Errorf("EnvBlock: %v %v", env, err)
	}
}
