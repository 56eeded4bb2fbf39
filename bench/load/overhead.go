package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/custody-dev/custody/bench/internal/proc"
)

// pushOverhead is the -push-overhead measurement: what a keyless push costs over a key-signed one,
// as the client waits for it, against one custodyd (SQLite, its embedded defaults) on loopback.
// Pushes alternate, one of each per round (key first in even rounds, keyless first in odd ones), so a
// busy moment of the machine hits both alike. Each push is a run of its own: init and the upload of
// its artifact come first and are not timed; the clock covers the statement, the signature and the
// push. Keyless, the signature is a fresh ECDSA key, its certificate request, the certificate
// (POST /v1/runs/{id}/certificate), the DSSE signature, its timestamp (POST /v1/timestamp); custodyd
// then verifies the chain, the timestamp and the workflow's identity before it stores the bundle.
//
// With cli set, the same again as whole `custody attestation push` processes (after `init` and two
// `add`s, not timed): `--key cosign.key` (the encrypted key is read and decrypted each time, as in a
// pipeline) against keyless.
type pushOverhead struct {
	pushes, warmup int
	cli            bool
}

// overheadResult is one signing mode's pushes.
type overheadResult struct {
	mode signMode
	lat  map[string][]time.Duration // of the in-process pushes: sign+push, sign, push, certificate, timestamp
	cli  []time.Duration            // wall time of the `custody attestation push` processes
}

func runPushOverhead(ctx context.Context, o options, po pushOverhead, dir string) error {
	srv, key, err := startBootstrapped(ctx, o, dir)
	if err != nil {
		return err
	}
	defer srv.stop()
	keyless, err := newWorkflow(ctx, key.admin, srv.url, key.project, "build-keyless", signKeyless)
	if err != nil {
		return err
	}
	results := []*overheadResult{{mode: signKey}, {mode: signKeyless}}
	workers := make([]*worker, 2)
	for i, fx := range []*fixture{key, keyless} {
		g := &generator{fx: fx, artifactSize: o.artifactSize, ack: map[string]bool{}}
		if workers[i], err = g.newWorker(i); err != nil {
			return err
		}
		defer workers[i].http.CloseIdleConnections()
	}
	// Warm-up rounds (connections, custodyd's verifier and contract caches) are not kept.
	err = alternate(po.warmup+po.pushes, 2, func(round, i int) error {
		if round == po.warmup {
			for _, w := range workers {
				w.lat = map[string][]time.Duration{}
			}
		}
		if err := workers[i].pipeline(ctx, round); err != nil {
			return fmt.Errorf("%s push %d: %w", results[i].mode, round, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, w := range workers {
		results[i].lat = w.lat
		if err := checkStored(ctx, w.g); err != nil {
			return fmt.Errorf("%s: %w", results[i].mode, err)
		}
	}
	if po.cli {
		if err := cliPushes(ctx, o, po, dir, srv.url, []*fixture{key, keyless}, results); err != nil {
			return err
		}
	}
	po.print(o.out, o, results[0], results[1])
	return nil
}

// cliPushes times whole `custody attestation push` processes, key and keyless alternating, each after
// an `init` and two `add`s of its own run (not timed).
func cliPushes(ctx context.Context, o options, po pushOverhead, dir, url string, fxs []*fixture, results []*overheadResult) error {
	custody := filepath.Join(dir, "custody")
	if err := goBuild(o.root, custody, "./cmd/custody"); err != nil {
		return err
	}
	keyDir := filepath.Join(dir, "cosign")
	if err := os.MkdirAll(keyDir, 0o700); err != nil {
		return err
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "COSIGN_PASSWORD=bench-password", "CUSTODY_CONTROL_PLANE=" + url}
	if _, err := measure(keyDir, append(base, "HOME="+keyDir), custody, "generate-key-pair"); err != nil {
		return err
	}
	pub, err := os.ReadFile(filepath.Join(keyDir, "cosign.pub"))
	if err != nil {
		return err
	}
	if _, err := fxs[0].admin.AddKey(ctx, fxs[0].project, fxs[0].workflow, string(pub)); err != nil {
		return fmt.Errorf("add the CLI's key: %w", err)
	}
	type workspace struct{ dir, artifact string }
	ws := make([]workspace, 2)
	envs := make([][]string, 2)
	for i, fx := range fxs {
		ws[i].dir = filepath.Join(dir, "cli-"+string(fx.mode))
		if err := os.MkdirAll(ws[i].dir, 0o755); err != nil {
			return err
		}
		ws[i].artifact = filepath.Join(ws[i].dir, "artifact.bin")
		envs[i] = append(append([]string(nil), base...), "CUSTODY_TOKEN="+fx.token, "HOME="+ws[i].dir)
	}
	return alternate(po.warmup+po.pushes, 2, func(round, i int) error {
		fx, w, env := fxs[i], ws[i], envs[i]
		// A different artifact each time, so every push is a new attestation.
		if err := os.WriteFile(w.artifact, fmt.Appendf(nil, "%s %d %d", fx.mode, round, time.Now().UnixNano()), 0o644); err != nil {
			return err
		}
		for _, args := range [][]string{
			{"attestation", "init", "--workflow", fx.workflow, "--project", fx.project},
			{"attestation", "add", "--name", "artifact", "--value", w.artifact},
			{"attestation", "add", "--name", "build-ref", "--value", fmt.Sprintf("cli-%d", round)},
		} {
			if _, err := measure(w.dir, env, custody, args...); err != nil {
				return err
			}
		}
		push := []string{"attestation", "push"}
		if fx.mode == signKey {
			push = append(push, "--key", filepath.Join(keyDir, "cosign.key"))
		}
		s, err := measure(w.dir, env, custody, push...)
		if err != nil {
			return err
		}
		if round >= po.warmup {
			results[i].cli = append(results[i].cli, s.wall)
		}
		return nil
	})
}

// overheadTarget is issue 7's bound on what keyless adds to a push (medians).
const overheadTarget = 30 * time.Millisecond

func (po pushOverhead) print(w io.Writer, o options, key, keyless *overheadResult) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "custodyd (SQLite, embedded default) on loopback; %d pushes of each, alternating, after %d of each not kept; "+
		"%d CPUs (%s); load average at the start %s, at the end %s\n\n",
		po.pushes, po.warmup, runtime.NumCPU(), host, o.startLoad, proc.LoadAverage())
	fmt.Fprintln(w, "| ms | key-signed | keyless | keyless − key |")
	fmt.Fprintln(w, "|---|---|---|---|")
	sp := "sign+push"
	diff := percentile(keyless.lat[sp], 50) - percentile(key.lat[sp], 50)
	fmt.Fprintf(w, "| sign + push: median | %s | %s | **%s** |\n", ms(percentile(key.lat[sp], 50)), ms(percentile(keyless.lat[sp], 50)), ms(diff))
	fmt.Fprintf(w, "| sign + push: p25 / p75 | %s | %s | |\n", quartiles(key.lat[sp]), quartiles(keyless.lat[sp]))
	fmt.Fprintf(w, "| sign + push: min / max | %s / %s | %s / %s | |\n", ms(percentile(key.lat[sp], 0)), ms(percentile(key.lat[sp], 100)),
		ms(percentile(keyless.lat[sp], 0)), ms(percentile(keyless.lat[sp], 100)))
	fmt.Fprintf(w, "| of which sign (statement, signature; keyless: key, certificate, timestamp): median | %s | %s | %s |\n",
		ms(percentile(key.lat["sign"], 50)), ms(percentile(keyless.lat["sign"], 50)), ms(percentile(keyless.lat["sign"], 50)-percentile(key.lat["sign"], 50)))
	fmt.Fprintf(w, "| of which the certificate call: median | - | %s | |\n", ms(percentile(keyless.lat["certificate"], 50)))
	fmt.Fprintf(w, "| of which the timestamp call: median | - | %s | |\n", ms(percentile(keyless.lat["timestamp"], 50)))
	fmt.Fprintf(w, "| of which push (custodyd verifies, stores): median | %s | %s | %s |\n",
		ms(percentile(key.lat["push"], 50)), ms(percentile(keyless.lat["push"], 50)), ms(percentile(keyless.lat["push"], 50)-percentile(key.lat["push"], 50)))
	if len(key.cli) > 0 {
		cdiff := percentile(keyless.cli, 50) - percentile(key.cli, 50)
		fmt.Fprintf(w, "| `custody attestation push` process (`--key`: decrypts cosign.key): median | %s | %s | %s |\n",
			ms(percentile(key.cli, 50)), ms(percentile(keyless.cli, 50)), ms(cdiff))
		fmt.Fprintf(w, "| `custody attestation push` process: p25 / p75 | %s | %s | |\n", quartiles(key.cli), quartiles(keyless.cli))
	}
	verdict := "met"
	if diff > overheadTarget {
		verdict = "missed"
	}
	fmt.Fprintf(w, "\nkeyless adds %s ms to the median sign + push (target ≤ %s ms): %s\n", ms(diff), ms(overheadTarget), verdict)
}

// quartiles is the p25 and p75 of d, in ms.
func quartiles(d []time.Duration) string {
	return ms(percentile(d, 25)) + " / " + ms(percentile(d, 75))
}
