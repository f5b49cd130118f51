// Package config resolves ccotel's configuration once, with the source of
// every value: flags, then CCOTEL_* variables, the standard OTEL_*
// variables, the variables of the Python hook it replaces, the config
// file, then defaults. It also owns the `~`
// expansion of paths and the state directory's default location, and
// hands each package its options. It knows nothing of what the values do.
// docs/CONFIG.md lists every key, variable and flag.
package config
