package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ccotel/ccotel/internal/certs"
	"github.com/ccotel/ccotel/internal/config"
)

const certsUsage = `Usage:
  A team: one client CA, kept by an admin; each developer's key stays on
  their laptop and only a certificate request travels.

  ccotel certs ca      [--dir DIR] [--cn NAME] [--days N] [--force]      (admin, once)
  ccotel certs request [--dir DIR] [--cn NAME] [--force]                (developer)
  ccotel certs sign    CSR [--ca-dir DIR] [--cn NAME] [--days N] [--out FILE]  (admin)
  ccotel certs install FILE [--dir DIR] [--issuer CA.pem] [--ca FILE]   (developer)
  ccotel certs list    [--ca-dir DIR]                                   (admin)
  ccotel certs revoke  SERIAL|CN [--ca-dir DIR] [--crl-days N]          (admin)
  ccotel certs crl     [--ca-dir DIR] [--crl-days N]                    (admin)

  One person alone: a CA and a certificate on this machine.

  ccotel certs init  [--dir DIR] [--cn NAME] [--force]
  ccotel certs renew [--dir DIR] [--cn NAME]

  ccotel certs show [FILE ...]

ca       makes the team's client CA in DIR (default ~/.config/ccotel/ca): its
         key (0600) never leaves that machine; an empty CRL; prints the
         kubectl command, the Ingress annotations and the nginx lines.
request  makes this laptop's private key (0600, kept if it exists) and a
         certificate request (client.csr) in DIR (default ~/.config/ccotel)
         to send to the admin.
sign     checks a request and issues a client certificate (clientAuth only,
         default 90 days, at most 397); refuses requests for a CA or a
         server; records it in the CA's ledger (issued.jsonl).
install  checks the certificate the admin sent (your key's, clientAuth,
         valid now, from the CA) and installs it as DIR/client.pem, writing
         client_cert and client_key (and ca with --ca) into the config file.
list     shows the certificates the CA issued: serial, expiry, subject,
         valid/expired/revoked, and the CRL's next update.
revoke   revokes a certificate (by serial, or every one of a CN) and writes
         the CRL (client-ca.crl) to publish to the ingress.
crl      writes the CRL again with a later next update (nginx refuses every
         client once it passes).
init     creates a CA and a certificate signed by it on this machine (for one
         person alone), writes client_cert and client_key into the config.
renew    issues a new certificate from init's CA on this machine.
show     names subject, issuer, expiry and days left of each certificate
         (default: the configured client certificate).
`

// certsSub is one `ccotel certs` subcommand: its flags and what it does
// with them and its arguments.
type certsSub struct {
	flags func(fs *flag.FlagSet, f *certsFlags)
	run   func(f *certsFlags, args []string, stdout, stderr io.Writer) int
}

// certsFlags are every subcommand's flags; each subcommand defines those
// it takes.
type certsFlags struct {
	home, dir, caDir, cn, out, issuer, ca string
	days, crlDays                         int
	force                                 bool
}

func certsSubs() map[string]certsSub {
	return map[string]certsSub{
		"init":    {flagsDirCN(true), runCertsInit},
		"renew":   {flagsDirCN(false), runCertsRenew},
		"show":    {func(*flag.FlagSet, *certsFlags) {}, runCertsShow},
		"ca":      {flagsCA, runCertsCA},
		"request": {flagsDirCN(true), runCertsRequest},
		"sign":    {flagsSign, runCertsSign},
		"install": {flagsInstall, runCertsInstall},
		"list":    {flagsCADir, runCertsList},
		"revoke":  {flagsCRL, runCertsRevoke},
		"crl":     {flagsCRL, runCertsCRL},
	}
}

func runCerts(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		io.WriteString(stderr, certsUsage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		io.WriteString(stdout, certsUsage)
		return exitOK
	}
	sub, ok := certsSubs()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ccotel certs: unknown subcommand %q\n\n%s", args[0], certsUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("certs "+args[0], flag.ContinueOnError)
	f := &certsFlags{}
	f.home, _ = os.UserHomeDir()
	sub.flags(fs, f)
	pos, code, ok := parseInterleaved(fs, certsUsage+"\nFlags:\n", args[1:], stdout, stderr)
	if !ok {
		return code
	}
	// Refused up front without HOME (keys would land in the working
	// directory): every subcommand but show writes or reads key files.
	dir, dirErr := f.expand(f.dir, "", args[0] == "init" || args[0] == "install")
	caDir, caErr := f.expand(f.caDir, "ca", false)
	f.dir, f.caDir = dir, caDir
	var err error
	switch args[0] {
	case "init", "renew", "request", "install":
		err = dirErr
	case "ca", "sign", "list", "revoke", "crl":
		err = caErr
	}
	if err != nil {
		fmt.Fprintf(stderr, "ccotel certs %s: %v\n", args[0], err)
		return exitFailure
	}
	return sub.run(f, pos, stdout, stderr)
}

// parseInterleaved is parseFlags for commands whose arguments may come
// before their flags (`certs sign bob.csr --days 30`): it returns the
// arguments, in order, with every flag around them parsed.
func parseInterleaved(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) ([]string, int, bool) {
	var pos []string
	for {
		if code, ok := parseFlags(fs, usage, args, stdout, stderr); !ok {
			return nil, code, false
		}
		if fs.NArg() == 0 {
			return pos, exitOK, true
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

// expand resolves a directory flag (config.CertsDir): "~" expanded;
// empty means ~/.config/ccotel/sub. forConfig: the subcommand writes
// ccotel's config file too.
func (f *certsFlags) expand(dir, sub string, forConfig bool) (string, error) {
	d, err := config.CertsDir(dir, forConfig)
	if err == nil && dir == "" {
		d = filepath.Join(d, sub)
	}
	return d, err
}

func flagsDirCN(withForce bool) func(fs *flag.FlagSet, f *certsFlags) {
	return func(fs *flag.FlagSet, f *certsFlags) {
		fs.StringVar(&f.dir, "dir", "", "directory of the client key and certificate (default ~/.config/ccotel)")
		fs.StringVar(&f.cn, "cn", "", "subject CN (default user@host)")
		if withForce {
			fs.BoolVar(&f.force, "force", false, "replace existing files (a new key)")
		}
	}
}

// noArgs refuses arguments to a subcommand that takes none.
func noArgs(sub string, args []string, stderr io.Writer) bool {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "ccotel certs %s: unexpected argument %q\n", sub, args[0])
		return false
	}
	return true
}

// oneArg wants exactly one argument, named what.
func oneArg(sub, what string, args []string, stderr io.Writer) bool {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "ccotel certs %s: want one %s, got %d arguments\nRun 'ccotel certs --help' for usage.\n", sub, what, len(args))
		return false
	}
	return true
}

func runCertsInit(f *certsFlags, args []string, stdout, stderr io.Writer) int {
	if !noArgs("init", args, stderr) {
		return exitUsage
	}
	res, err := certs.Init(certs.InitOptions{Dir: f.dir, CommonName: f.cn, Force: f.force})
	if err != nil {
		fmt.Fprintf(stderr, "ccotel certs init: %v\n", err)
		return exitFailure
	}
	io.WriteString(stdout, res.Text)
	return writeCertConfig("init", config.Collector{ClientCert: res.ClientCert, ClientKey: res.ClientKey}, f.home, stdout, stderr)
}

func runCertsRenew(f *certsFlags, args []string, stdout, stderr io.Writer) int {
	if !noArgs("renew", args, stderr) {
		return exitUsage
	}
	res, err := certs.Renew(certs.RenewOptions{Paths: certs.PathsIn(f.dir), CommonName: f.cn})
	if err != nil {
		fmt.Fprintf(stderr, "ccotel certs renew: %v\n", err)
		return exitFailure
	}
	io.WriteString(stdout, res.Text)
	return exitOK
}

func runCertsShow(f *certsFlags, files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		cfg, err := config.Load(config.LoadOptions{})
		if err != nil {
			fmt.Fprintf(stderr, "ccotel certs show: %v\n", err)
			return exitFailure
		}
		if cfg.ClientCert == "" {
			fmt.Fprintln(stderr, "ccotel certs show: no client certificate is configured; name a file, or run `ccotel certs request` (a team) or `ccotel certs init` (one person alone)")
			return exitFailure
		}
		files = []string{cfg.ClientCert}
	}
	code := exitOK
	for _, file := range files {
		info, err := certs.Show(file, time.Now())
		if err != nil {
			fmt.Fprintf(stderr, "ccotel certs show: %v\n", err)
			code = exitFailure
			continue
		}
		fmt.Fprintln(stdout, info)
	}
	return code
}

// writeCertConfig points ccotel's config file at a client pair (and a
// server CA, when col has one).
func writeCertConfig(sub string, col config.Collector, home string, stdout, stderr io.Writer) int {
	path := config.ConfigFilePath(nil)
	set, _, err := col.Settings(home)
	if err == nil {
		_, err = config.WriteFile(path, set, false)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ccotel certs %s: the certificate is in place, but the config file %s was not updated: %v\n  set client_cert = %q and client_key = %q there yourself\n", sub, path, err, col.ClientCert, col.ClientKey)
		return exitFailure
	}
	what := "client_cert and client_key now point"
	if col.CA != "" {
		what = "client_cert, client_key and ca now point"
	}
	fmt.Fprintf(stdout, "\n%s: %s at these files\n", path, what)
	return exitOK
}
