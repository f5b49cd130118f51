package certs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"sort"
	"strings"
	"time"
)

// The ledger: issued.jsonl beside the CA, mode 0600, one JSON object per
// line, appended and never rewritten: an "issued" line for each
// certificate Sign makes, a "revoked" line for each one Revoke takes back.
// List folds it into one Issued per certificate; the CRL is made from its
// revoked lines.

type ledgerLine struct {
	Event    string    `json:"event"` // "issued" or "revoked"
	Serial   string    `json:"serial"`
	Subject  string    `json:"subject,omitempty"`
	CN       string    `json:"cn,omitempty"`
	NotAfter time.Time `json:"not_after,omitzero"`
	At       time.Time `json:"at"`
}

// Issued is one certificate the CA issued, as the ledger knows it.
type Issued struct {
	Serial   string // upper-case hex, as nginx's $ssl_client_serial prints it
	Subject  string // e.g. "CN=bob@corp,O=ccotel"
	CN       string
	NotAfter time.Time
	IssuedAt time.Time
	// RevokedAt is zero unless revoked.
	RevokedAt time.Time
}

// Revoked reports whether the certificate was revoked.
func (i Issued) Revoked() bool { return !i.RevokedAt.IsZero() }

// Status is "valid", "expired" or "revoked <day>" as of now.
func (i Issued) Status(now time.Time) string {
	switch {
	case i.Revoked():
		return "revoked " + Day(i.RevokedAt)
	case now.After(i.NotAfter):
		return "expired"
	}
	return "valid"
}

// SerialHex formats a serial number as nginx's $ssl_client_serial does.
func SerialHex(n *big.Int) string { return strings.ToUpper(n.Text(16)) }

// parseSerial reads a serial as people copy it: hex, any case, with or
// without colons (openssl's form).
func parseSerial(s string) (*big.Int, bool) {
	s = strings.ReplaceAll(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "0x"), ":", "")
	if s == "" {
		return nil, false
	}
	return new(big.Int).SetString(s, 16)
}

// ReadLedger reads the CA's ledger, one Issued per certificate, in the
// order they were issued. A missing ledger is an empty one.
func ReadLedger(path string) ([]Issued, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("certs: ledger %s: %w", path, err)
	}
	var out []Issued
	index := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l ledgerLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("certs: ledger %s line %d: %v", path, n, err)
		}
		switch l.Event {
		case "issued":
			index[l.Serial] = len(out)
			out = append(out, Issued{Serial: l.Serial, Subject: l.Subject, CN: l.CN, NotAfter: l.NotAfter, IssuedAt: l.At})
		case "revoked":
			if i, ok := index[l.Serial]; ok && !out[i].Revoked() {
				out[i].RevokedAt = l.At
			}
		}
	}
	return out, sc.Err()
}

// appendLedger adds lines to the ledger (created 0600) and syncs it.
func appendLedger(path string, lines ...ledgerLine) error {
	var buf bytes.Buffer
	for _, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		buf.Write(append(b, '\n'))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("certs: ledger: %w", err)
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("certs: ledger %s: %w", path, err)
	}
	return nil
}

// Listing is what `ccotel certs list` shows: every certificate the CA
// issued and the state of its CRL.
type Listing struct {
	CAPaths
	Issued   []Issued
	CRLState *CRLInfo // nil when there is no CRL file
	Now      time.Time
}

// List reads the CA directory's ledger and CRL.
func List(dir string, now time.Time) (*Listing, error) {
	p := CAPathsIn(dir)
	if _, err := ReadCertificate(p.Cert); err != nil {
		return nil, fmt.Errorf("certs: CA certificate %s: %w (is --ca-dir the CA's directory?)", p.Cert, err)
	}
	issued, err := ReadLedger(p.Ledger)
	if err != nil {
		return nil, err
	}
	l := &Listing{CAPaths: p, Issued: issued, Now: now}
	if info, err := ReadCRL(p.CRL); err == nil {
		l.CRLState = info
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return l, nil
}

// String is the listing as `ccotel certs list` prints it, newest expiry
// last, ending with the CRL's state and what to do when it is due.
func (l *Listing) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Certificates issued by %s (ledger %s):\n\n", l.Cert, l.Ledger)
	if len(l.Issued) == 0 {
		b.WriteString("  none yet: `ccotel certs sign CSR` issues one\n")
	} else {
		rows := append([]Issued(nil), l.Issued...)
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].NotAfter.Before(rows[j].NotAfter) })
		w := len("SERIAL")
		for _, r := range rows {
			w = max(w, len(r.Serial))
		}
		fmt.Fprintf(&b, "  %-*s  %-20s  %-30s  %s\n", w, "SERIAL", "EXPIRES", "SUBJECT", "STATUS")
		for _, r := range rows {
			fmt.Fprintf(&b, "  %-*s  %-20s  %-30s  %s\n", w, r.Serial, Day(r.NotAfter), r.Subject, r.Status(l.Now))
		}
	}
	b.WriteString("\n")
	switch {
	case l.CRLState == nil:
		fmt.Fprintf(&b, "No CRL at %s: `ccotel certs crl --ca-dir %s` makes one.\n", l.CRL, shellQuote(l.Dir))
	default:
		fmt.Fprintf(&b, "CRL %s: %s\n", l.CRLState.Path, l.CRLState.Summary())
		if l.CRLState.NextUpdate.Sub(l.Now) < CRLRenewBefore {
			fmt.Fprintf(&b, "  due: nginx refuses every client once it passes %s; run `ccotel certs crl --ca-dir %s` and publish it again\n", Day(l.CRLState.NextUpdate), shellQuote(l.Dir))
		}
	}
	return b.String()
}
