package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ccotel/ccotel/internal/certs"
	"github.com/ccotel/ccotel/internal/config"
)

const certsUsage = `Usage: ccotel certs init [--dir DIR] [--cn NAME] [--force]
       ccotel certs renew [--dir DIR]
       ccotel certs show [FILE ...]

init   creates a client CA and a client certificate signed by it (keys 0600
       in DIR, default ~/.config/ccotel), writes client_cert and client_key
       into ccotel's config file, and prints what to run on the cluster side:
       the kubectl command for the CA secret and the Ingress annotations.
       It never overwrites a file without --force.
renew  issues a new client certificate, with a new key, from the same CA.
show   names subject, issuer, expiry and days left of each certificate
       (default: the configured client certificate).
`

func runCerts(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		io.WriteString(stderr, certsUsage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		io.WriteString(stdout, certsUsage)
		return exitOK
	case "init", "renew", "show":
	default:
		fmt.Fprintf(stderr, "ccotel certs: unknown subcommand %q\n\n%s", args[0], certsUsage)
		return exitUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("certs "+sub, flag.ContinueOnError)
	home, _ := os.UserHomeDir()
	dir := fs.String("dir", "", "directory of the CA and client files (default ~/.config/ccotel)")
	cn := fs.String("cn", "", "client certificate subject CN (default user@host)")
	force := fs.Bool("force", false, "init: replace existing files")
	if code, ok := parseFlags(fs, certsUsage+"\nFlags:\n", args[1:], stdout, stderr); !ok {
		return code
	}
	d, err := config.CertsDir(*dir, sub == "init")
	if err != nil && sub != "show" {
		fmt.Fprintf(stderr, "ccotel certs %s: %v\n", sub, err)
		return exitFailure
	}
	switch sub {
	case "init":
		res, err := certs.Init(certs.InitOptions{Dir: d, CommonName: *cn, Force: *force})
		if err != nil {
			fmt.Fprintf(stderr, "ccotel certs init: %v\n", err)
			return exitFailure
		}
		io.WriteString(stdout, res.Text)
		return writeCertConfig(res, home, stdout, stderr)
	case "renew":
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "ccotel certs renew: unexpected argument %q\n", fs.Arg(0))
			return exitUsage
		}
		res, err := certs.Renew(certs.RenewOptions{Paths: certs.PathsIn(d), CommonName: *cn})
		if err != nil {
			fmt.Fprintf(stderr, "ccotel certs renew: %v\n", err)
			return exitFailure
		}
		io.WriteString(stdout, res.Text)
		return exitOK
	}
	files := fs.Args()
	if len(files) == 0 {
		cfg, err := config.Load(config.LoadOptions{})
		if err != nil {
			fmt.Fprintf(stderr, "ccotel certs show: %v\n", err)
			return exitFailure
		}
		if cfg.ClientCert == "" {
			fmt.Fprintln(stderr, "ccotel certs show: no client certificate is configured; name a file, or run `ccotel certs init`")
			return exitFailure
		}
		files = []string{cfg.ClientCert}
	}
	code := exitOK
	for _, f := range files {
		info, err := certs.Show(f, time.Now())
		if err != nil {
			fmt.Fprintf(stderr, "ccotel certs show: %v\n", err)
			code = exitFailure
			continue
		}
		fmt.Fprintln(stdout, info)
	}
	return code
}

// writeCertConfig points ccotel's config file at the new client pair.
func writeCertConfig(res *certs.Result, home string, stdout, stderr io.Writer) int {
	path := config.ConfigFilePath(nil)
	col := config.Collector{ClientCert: res.ClientCert, ClientKey: res.ClientKey}
	set, _, err := col.Settings(home)
	if err == nil {
		_, err = config.WriteFile(path, set, false)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ccotel certs init: the certificates are made, but the config file %s was not updated: %v\n  set client_cert = %q and client_key = %q there yourself\n", path, err, res.ClientCert, res.ClientKey)
		return exitFailure
	}
	fmt.Fprintf(stdout, "\n%s: client_cert and client_key now point at these files\n", path)
	return exitOK
}
