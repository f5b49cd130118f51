package cli

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ccotel/ccotel/internal/certs"
	"github.com/ccotel/ccotel/internal/config"
)

// The team CA's subcommands: ca, sign, list, revoke and crl on the
// admin's machine; request and install on a developer's.

const day = 24 * time.Hour

func flagsCA(fs *flag.FlagSet, f *certsFlags) {
	fs.StringVar(&f.caDir, "dir", "", "the CA's directory (default ~/.config/ccotel/ca)")
	fs.StringVar(&f.cn, "cn", "", "the CA's subject CN (default "+certs.TeamCAName+")")
	fs.IntVar(&f.days, "days", 3650, "the CA's lifetime in days")
	fs.BoolVar(&f.force, "force", false, "replace an existing CA (what it issued stops working)")
}

func flagsCADir(fs *flag.FlagSet, f *certsFlags) {
	fs.StringVar(&f.caDir, "ca-dir", "", "the CA's directory (default ~/.config/ccotel/ca)")
}

func flagsSign(fs *flag.FlagSet, f *certsFlags) {
	flagsCADir(fs, f)
	fs.StringVar(&f.cn, "cn", "", "the certificate's subject CN (default: the one the request asks for)")
	fs.IntVar(&f.days, "days", int(certs.SignValidity/day), fmt.Sprintf("the certificate's lifetime in days (at most %d)", int(certs.MaxSignValidity/day)))
	fs.StringVar(&f.out, "out", "", "where the certificate goes (default CN.pem beside the request)")
}

func flagsInstall(fs *flag.FlagSet, f *certsFlags) {
	fs.StringVar(&f.dir, "dir", "", "directory of your key from `certs request` (default ~/.config/ccotel)")
	fs.StringVar(&f.issuer, "issuer", "", "the team's client CA certificate the certificate must come from")
	fs.StringVar(&f.ca, "ca", "", "the CA of the collector's server certificate, when private (config key ca)")
}

func flagsCRL(fs *flag.FlagSet, f *certsFlags) {
	flagsCADir(fs, f)
	fs.IntVar(&f.crlDays, "crl-days", int(certs.CRLValidity/day), "days until the CRL's next update")
}

func runCertsCA(f *certsFlags, args []string, stdout, stderr io.Writer) int {
	if !noArgs("ca", args, stderr) {
		return exitUsage
	}
	res, err := certs.NewCA(certs.CAOptions{Dir: f.caDir, CommonName: f.cn, Validity: time.Duration(f.days) * day, Force: f.force})
	return certsResult("ca", err, func() string { return res.Text }, stdout, stderr)
}

func runCertsRequest(f *certsFlags, args []string, stdout, stderr io.Writer) int {
	if !noArgs("request", args, stderr) {
		return exitUsage
	}
	res, err := certs.Request(certs.RequestOptions{Dir: f.dir, CommonName: f.cn, Force: f.force})
	return certsResult("request", err, func() string { return res.Text }, stdout, stderr)
}

func runCertsSign(f *certsFlags, args []string, stdout, stderr io.Writer) int {
	if !oneArg("sign", "certificate request (CSR file)", args, stderr) {
		return exitUsage
	}
	res, err := certs.Sign(certs.SignOptions{CADir: f.caDir, CSR: args[0], CommonName: f.cn,
		Validity: time.Duration(f.days) * day, Out: config.ExpandHome(f.out, f.home)})
	return certsResult("sign", err, func() string { return res.Text }, stdout, stderr)
}

func runCertsInstall(f *certsFlags, args []string, stdout, stderr io.Writer) int {
	if !oneArg("install", "certificate file", args, stderr) {
		return exitUsage
	}
	res, err := certs.Install(certs.InstallOptions{Dir: f.dir, File: args[0], Issuer: config.ExpandHome(f.issuer, f.home)})
	if code := certsResult("install", err, func() string { return res.Text }, stdout, stderr); code != exitOK {
		return code
	}
	return writeCertConfig("install", config.Collector{ClientCert: res.Cert, ClientKey: res.Key, CA: f.ca}, f.home, stdout, stderr)
}

func runCertsList(f *certsFlags, args []string, stdout, stderr io.Writer) int {
	if !noArgs("list", args, stderr) {
		return exitUsage
	}
	l, err := certs.List(f.caDir, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "ccotel certs list: %v\n", err)
		return exitFailure
	}
	io.WriteString(stdout, l.String())
	return exitOK
}

func runCertsRevoke(f *certsFlags, args []string, stdout, stderr io.Writer) int {
	if !oneArg("revoke", "serial number or CN", args, stderr) {
		return exitUsage
	}
	res, err := certs.Revoke(certs.RevokeOptions{CADir: f.caDir, Which: args[0], CRLValidity: time.Duration(f.crlDays) * day})
	return certsResult("revoke", err, func() string { return res.Text }, stdout, stderr)
}

func runCertsCRL(f *certsFlags, args []string, stdout, stderr io.Writer) int {
	if !noArgs("crl", args, stderr) {
		return exitUsage
	}
	res, err := certs.RefreshCRL(certs.RevokeOptions{CADir: f.caDir, CRLValidity: time.Duration(f.crlDays) * day})
	return certsResult("crl", err, func() string { return res.Text }, stdout, stderr)
}

// certsResult prints a subcommand's error, or else its result's text.
func certsResult(sub string, err error, text func() string, stdout, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintf(stderr, "ccotel certs %s: %v\n", sub, err)
		return exitFailure
	}
	io.WriteString(stdout, text())
	return exitOK
}
