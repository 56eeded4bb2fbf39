package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/custody-dev/custody/bench/internal/pgserver"
	"github.com/custody-dev/custody/bench/internal/proc"
)

// result is one N's measurement.
type result struct {
	n                   int
	mode                signMode
	completed, errors   int
	firstErr            error
	elapsed             time.Duration
	lat                 map[string][]time.Duration
	idle, after         usage         // custodyd before the warm-up, and after the measurement
	serverCPU           time.Duration // custodyd's CPU time in the measurement
	genCPU, machineCPU  time.Duration // the load generator's CPU time, and all cores' busy time, in the measurement
	acked, stored, lost int
}

func (r result) rate() float64 { return float64(r.completed) / r.elapsed.Seconds() }

// percentile returns the p-th percentile (0..100) of d, nearest rank.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func printTable(w io.Writer, o options, pg *pgserver.Server, results []result) {
	store := "SQLite (embedded default, WAL) + filesystem CAS"
	if pg != nil {
		store = pg.Describe() + " + filesystem CAS"
	}
	host, _ := os.Hostname()
	fmt.Fprintf(w, "store: %s; %d-byte artifacts; %s measured per N after %s warm-up; %d CPUs (%s); load average at the start %s, at the end %s\n\n",
		store, o.artifactSize, o.duration, o.warmup, runtime.NumCPU(), host, o.startLoad, proc.LoadAverage())
	fmt.Fprintln(w, "| N | signing | attestations/s | init p50 / p99 ms | upload p50 / p99 ms | sign p50 / p99 ms | push p50 / p99 ms | pipeline p50 / p99 / max ms | errors | acked / stored / lost |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Fprintf(w, "| %d | %s | %.1f | %s | %s | %s | %s | %s / %s | %d | %d / %d / %d |\n", r.n, r.mode, r.rate(), r.p5099("init"), r.p5099("upload"),
			r.p5099("sign"), r.p5099("push"), r.p5099("pipeline"), ms(percentile(r.lat["pipeline"], 100)), r.errors, r.acked, r.stored, r.lost)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| N | signing | CPU per attestation: custodyd / load generator / rest (database, other) | machine busy | custodyd RSS idle → after load (growth) | custodyd peak RSS |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Fprintf(w, "| %d | %s | %s / %s / %s ms | %.0f%% of %d cores | %.1f → %.1f MiB (%+.1f MiB) | %.1f MiB |\n", r.n, r.mode,
			r.perAttestation(r.serverCPU), r.perAttestation(r.genCPU), r.perAttestation(r.restCPU()),
			100*r.machineCPU.Seconds()/r.elapsed.Seconds()/float64(runtime.NumCPU()), runtime.NumCPU(), mib(r.idle.rssKiB), mib(r.after.rssKiB),
			mib(r.after.rssKiB-r.idle.rssKiB), mib(r.after.hwmKiB))
	}
	printKeyless(w, results)
}

// printKeyless compares, for every N measured both ways, keyless signing with key signing: the
// rates and their ratio, what keyless adds per attestation (its two calls, and CPU), side by side.
func printKeyless(w io.Writer, results []result) {
	type pair struct{ key, keyless *result }
	var pairs []pair
	for i := range results {
		if results[i].mode != signKey {
			continue
		}
		for j := range results {
			if results[j].mode == signKeyless && results[j].n == results[i].n {
				pairs = append(pairs, pair{&results[i], &results[j]})
				break
			}
		}
	}
	if len(pairs) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| N | attestations/s key → keyless | keyless / key | keyless certificate p50 / p99 ms | keyless timestamp p50 / p99 ms | sign + push p50 ms key → keyless | CPU per attestation key → keyless: custodyd / load generator ms |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, p := range pairs {
		k, l := p.key, p.keyless
		ratio := "-"
		if k.rate() > 0 {
			ratio = fmt.Sprintf("%.2f", l.rate()/k.rate())
		}
		fmt.Fprintf(w, "| %d | %.1f → %.1f | %s | %s | %s | %s → %s | %s → %s / %s → %s |\n", k.n, k.rate(), l.rate(), ratio,
			l.p5099("certificate"), l.p5099("timestamp"), ms(percentile(k.lat["sign+push"], 50)), ms(percentile(l.lat["sign+push"], 50)),
			k.perAttestation(k.serverCPU), l.perAttestation(l.serverCPU), k.perAttestation(k.genCPU), l.perAttestation(l.genCPU))
	}
}

// p5099 is the p50 and p99 latency of call, in ms.
func (r result) p5099(call string) string {
	return ms(percentile(r.lat[call], 50)) + " / " + ms(percentile(r.lat[call], 99))
}

// restCPU is the machine's busy time in the measurement that was neither custodyd's nor the load
// generator's (the database, other processes).
func (r result) restCPU() time.Duration {
	return max(0, r.machineCPU-r.serverCPU-r.genCPU) // tick granularity can make it dip below 0
}

// perAttestation is d per completed attestation, in ms.
func (r result) perAttestation(d time.Duration) string {
	if r.completed == 0 {
		return "-"
	}
	return ms(d / time.Duration(r.completed))
}

func mib(kib int64) float64 { return float64(kib) / 1024 }
