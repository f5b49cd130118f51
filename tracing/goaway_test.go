package tracing

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ccotel/ccotel/internal/otlptest"
)

// h2GoAwayServer is an HTTP/2 server (TLS, ALPN h2) that answers the
// first request with a GOAWAY frame carrying code, as a server rate
// limiting its clients does (ENHANCE_YOUR_CALM), and hangs up on a
// connection that sends no HTTP/2 preface within 100 ms (as servers with
// a short handshake timeout do: what the bare-handshake probe sees).
func h2GoAwayServer(t *testing.T, p *otlptest.PKI, code uint32) string {
	t.Helper()
	tc := p.ServerTLS()
	tc.ClientAuth = tls.NoClientCert
	tc.NextProtos = []string{"h2"}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveGoAway(c, code)
		}
	}()
	return "https://" + ln.Addr().String() + "/v1/traces"
}

func serveGoAway(c net.Conn, code uint32) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(100 * time.Millisecond))
	preface := make([]byte, 24)
	if _, err := io.ReadFull(c, preface); err != nil || string(preface) != "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" {
		return
	}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	writeFrame(c, 0x4, 0, 0, nil) // SETTINGS
	for {
		var hdr [9]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
		if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
			return
		}
		switch hdr[3] {
		case 0x4: // SETTINGS: acknowledge the client's
			if hdr[4]&1 == 0 {
				writeFrame(c, 0x4, 1, 0, nil)
			}
		case 0x1: // HEADERS: the request; refuse it
			stream := binary.BigEndian.Uint32(hdr[5:]) & 0x7fffffff
			payload := binary.BigEndian.AppendUint32(nil, stream)
			payload = binary.BigEndian.AppendUint32(payload, code)
			payload = append(payload, "slow down"...)
			writeFrame(c, 0x7, 0, 0, payload) // GOAWAY
			time.Sleep(50 * time.Millisecond)
			return
		}
	}
}

func writeFrame(w io.Writer, typ, flags byte, stream uint32, payload []byte) {
	n := len(payload)
	hdr := []byte{byte(n >> 16), byte(n >> 8), byte(n), typ, flags}
	hdr = binary.BigEndian.AppendUint32(hdr, stream)
	w.Write(append(hdr, payload...))
}

// A GOAWAY is the server's word about HTTP/2, not about certificates:
// ENHANCE_YOUR_CALM (rate limiting) is "unavailable, retry later", never
// "no client certificate sent" (what the bare-handshake probe concluded
// from a server that hangs up on a silent connection and never asked for
// a certificate).
func TestExportClassifiesGoAway(t *testing.T) {
	p := otlptest.MustPKI(t)
	for _, tc := range []struct {
		code uint32
		name string
		want FailureKind
	}{
		{0xb, "ENHANCE_YOUR_CALM", FailUnavailable},
		{0x0, "NO_ERROR", FailUnavailable},
		{0x2, "INTERNAL_ERROR", FailUnavailable},
		{0x1, "PROTOCOL_ERROR", FailOther},
	} {
		url := h2GoAwayServer(t, p, tc.code)
		cfg := &Options{Endpoint: url, Protocol: "http/protobuf", Timeout: 3 * time.Second,
			CA: p.ServerCA.Path, ServiceName: DefaultServiceName}
		e := exportErr(t, cfg)
		if e == nil {
			t.Fatalf("%s: export succeeded", tc.name)
		}
		if e.Kind != tc.want || !strings.Contains(e.Error(), tc.name) {
			t.Errorf("%s: kind %v, error %q; want %v naming %s", tc.name, e.Kind, e, tc.want, tc.name)
		}
	}
}

// The probe names a missing client certificate only when the server asked
// for one: a server that never sent a CertificateRequest and then hangs
// up refused something else.
func TestProbeNoCertOnlyWhenAsked(t *testing.T) {
	p := otlptest.MustPKI(t)
	url := h2GoAwayServer(t, p, 0xb)
	h := ProbeTLS(t.Context(), &Options{Endpoint: url, Timeout: 3 * time.Second, CA: p.ServerCA.Path})
	if h.Kind == FailNoClientCert || h.Kind == FailClientCertRejected {
		t.Errorf("probe of a server that asked for no certificate: %v: %v", h.Kind, h.Err)
	}
}
