package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// benchPeer compares `ccotel hook` with ../shared/peers/otlp-tracer.mjs, a
// Node port of the Python hook ccotel replaces (OpenTelemetry JS SDK,
// SimpleSpanProcessor, a synchronous export per event), on the same
// PostToolUse and the same mTLS receiver, interleaved.
func (b *bench) benchPeer() error {
	fmt.Println()
	fmt.Println("### 7. The peer: the same PostToolUse through `otlp-tracer.mjs` (Node, OpenTelemetry JS SDK)")
	fmt.Println()
	node, err := exec.LookPath("node")
	if err != nil {
		fmt.Println("node is not installed: not measured.")
		b.verdicts = append(b.verdicts, verdict{"ccotel ≥ 50× faster than the SDK peer", "node missing", "not measured"})
		return nil
	}
	peerDir, installed, err := b.installPeer()
	if err != nil {
		return err
	}
	peerState := filepath.Join(b.tmp, "peer-state")
	peer := proc{bin: node, args: []string{filepath.Join(peerDir, "otlp-tracer.mjs")}, env: append(append([]string{}, b.base...),
		"PEER_STATE_DIR="+peerState,
		"OTEL_EXPORTER_OTLP_ENDPOINT="+b.rec.URL,
		"OTLP_CLIENT_CERTIFICATE="+b.certs.ClientCert,
		"OTLP_CLIENT_KEY="+b.certs.ClientKey,
		"REQUESTS_CA_BUNDLE="+b.certs.ServerCA.Path,
	)}
	dir := b.stateDir("peer")
	h := b.hook(dir)
	s := newSession(b.tmp)
	if err := startSession(h, s); err != nil {
		return err
	}
	if r := peer.run(s.SessionStart()); !r.ok() {
		return fmt.Errorf("peer SessionStart: %s", r)
	}
	peerSpans := func() int {
		n := 0
		for id := range b.rec.Spans() {
			if b.rec.Name(id) == "tool:Bash" {
				n++
			}
		}
		return n
	}
	peerBefore := peerSpans()
	ps, hs, ds := &series{}, &series{}, &series{}
	d := b.drainProc()
	var ids []string
	const warm = 1
	for i := -warm; i < b.peerRuns; i++ {
		id := toolUseID("peer", i+warm)
		ids = append(ids, toolSpanID(s.ID, id))
		if r := h.run(s.PreToolUse(id)); !r.silentOK() {
			return fmt.Errorf("PreToolUse: %s", r)
		}
		post := s.PostToolUse(id, smallStdout)
		order := []func(){
			func() { add(ps, i, peer.run(post)) },
			func() { add(hs, i, h.run(post)) },
			func() { add(ds, i, d.run(post)) },
		}
		for k := range order {
			order[(k+i+warm)%len(order)]()
		}
	}
	missing := b.waitDelivered(ids, 20*time.Second)
	peerGot := peerSpans() - peerBefore
	pm, hm := median(ps.walls()), median(hs.walls())
	r := ratio(pm, hm)
	fmt.Printf("Peer installed in %s; %s.\n\n", peerDir, installed)
	fmt.Println("| program | runs | median | p90 | CPU median | exit ≠ 0 | spans at the receiver |")
	fmt.Println("|---|---|---|---|---|---|---|")
	peerFail := 0
	for _, x := range ps.runs {
		if !x.ok() {
			peerFail++
		}
	}
	fmt.Printf("| otlp-tracer.mjs (node) | %d | %s | %s | %s | %d | %d/%d (incl. warm-up) |\n", len(ps.runs), ms(pm), ms(quantile(ps.walls(), 0.9)), ms(median(ps.cpus())), peerFail, peerGot, len(ps.runs)+warm)
	fmt.Printf("| ccotel hook | %d | %s | %s | %s | %d | %d/%d (incl. warm-up) |\n", len(hs.runs), ms(hm), ms(quantile(hs.walls(), 0.9)), ms(median(hs.cpus())), hs.failures(), len(ids)-missing, len(ids))
	fmt.Printf("| drain baseline | %d | %s | %s | %s | %d | — |\n", len(ds.runs), ms(median(ds.walls())), ms(quantile(ds.walls(), 0.9)), ms(median(ds.cpus())), ds.failures())
	ceiling := ratio(pm, median(ds.walls()))
	fmt.Printf("\nccotel is **%.0f×** faster (median peer / median ccotel, same run). The drain baseline is %.0f× faster than the peer:\n", r, ceiling)
	fmt.Println("that is the ceiling any hook process (even one that only reads stdin) can reach on this machine.")
	if f := ps.firstFailure(); peerFail > 0 {
		fmt.Println("\nfirst failing peer run:", f)
	}
	b.verdict("ccotel ≥ 50× faster than the SDK peer", fmt.Sprintf("%.0f× (%s vs %s); ceiling here (drain vs peer) %.0f×", r, ms(pm), ms(hm), ceiling), r >= 50 && hs.failures() == 0 && peerFail == 0)
	return nil
}

// installPeer copies ../shared/peers into a cache directory keyed by its
// content and runs `npm install` there once.
func (b *bench) installPeer() (dir, how string, err error) {
	src := filepath.Join(b.root, "..", "shared", "peers")
	h := sha256.New()
	var files = []string{"package.json", "otlp-tracer.mjs"}
	for _, f := range files {
		c, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", "", fmt.Errorf("peer: %w", err)
		}
		h.Write(c)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir = filepath.Join(cache, "ccotel-bench", "peer-"+hex.EncodeToString(h.Sum(nil))[:12])
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@opentelemetry", "sdk-trace-base")); err == nil {
		return dir, "node_modules reused from an earlier run", nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	for _, f := range files {
		c, _ := os.ReadFile(filepath.Join(src, f))
		if err := os.WriteFile(filepath.Join(dir, f), c, 0o644); err != nil {
			return "", "", err
		}
	}
	start := time.Now()
	c := exec.Command("npm", "install", "--no-audit", "--no-fund")
	c.Dir = dir
	if out, err := c.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("npm install in %s: %v\n%s", dir, err, out)
	}
	return dir, fmt.Sprintf("`npm install` took %s", time.Since(start).Round(100*time.Millisecond)), nil
}
