package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/auth"
)

// query is one kind of request a person's page makes: op runs one, with parameters drawn from rng,
// and returns how many rows it answered.
type query struct {
	name string
	op   func(ctx context.Context, rng *mrand.Rand) (int, error)
}

// queries are the list pages and the run page, app-level: what the UI and the API ask the app for.
func queries(a *app.App, ds *dataset, deep []string) []query {
	runs := func(p auth.Principal, q func(rng *mrand.Rand) app.RunQuery) func(context.Context, *mrand.Rand) (int, error) {
		return func(ctx context.Context, rng *mrand.Rand) (int, error) {
			page, err := a.ListRuns(ctx, p, q(rng))
			return len(page.Runs), err
		}
	}
	project := func(rng *mrand.Rand) (string, string) {
		p := rng.IntN(len(ds.projects))
		return ds.projects[p], ds.workflows[p][rng.IntN(len(ds.workflows[p]))]
	}
	states := []string{"succeeded", "failed", "cancelled", "expired"}
	digest := func(p auth.Principal, d func(rng *mrand.Rand) string) func(context.Context, *mrand.Rand) (int, error) {
		return func(ctx context.Context, rng *mrand.Rand) (int, error) {
			page, err := a.FindByDigest(ctx, p, d(rng), "", 0)
			return len(page.Attestations), err
		}
	}
	qs := []query{
		{"runs, first page", runs(ds.admin, func(*mrand.Rand) app.RunQuery { return app.RunQuery{} })},
		{"runs, a deep page (cursor 10k to 90k runs deep)", runs(ds.admin, func(rng *mrand.Rand) app.RunQuery {
			return app.RunQuery{Cursor: deep[rng.IntN(len(deep))]}
		})},
		{"runs of a project", runs(ds.admin, func(rng *mrand.Rand) app.RunQuery {
			p, _ := project(rng)
			return app.RunQuery{Project: p}
		})},
		{"runs of a workflow", runs(ds.admin, func(rng *mrand.Rand) app.RunQuery {
			p, w := project(rng)
			return app.RunQuery{Project: p, Workflow: w}
		})},
		{"runs by state", runs(ds.admin, func(rng *mrand.Rand) app.RunQuery { return app.RunQuery{State: states[rng.IntN(len(states))]} })},
		{"runs by runner", runs(ds.admin, func(rng *mrand.Rand) app.RunQuery {
			return app.RunQuery{RunnerType: ds.runners[rng.IntN(len(ds.runners))]}
		})},
		{"runs by branch", runs(ds.admin, func(rng *mrand.Rand) app.RunQuery {
			return app.RunQuery{Branch: ds.branches[rng.IntN(len(ds.branches))]}
		})},
		{"runs of a workflow by state and branch", runs(ds.admin, func(rng *mrand.Rand) app.RunQuery {
			p, w := project(rng)
			return app.RunQuery{Project: p, Workflow: w, State: states[rng.IntN(len(states))], Branch: ds.branches[rng.IntN(len(ds.branches))]}
		})},
		{"runs, project token", runs(ds.project, func(rng *mrand.Rand) app.RunQuery { return app.RunQuery{State: states[rng.IntN(2)]} })},
		{"runs, workflow token", runs(ds.workflow, func(*mrand.Rand) app.RunQuery { return app.RunQuery{} })},
		{"digest search, a shared base image", digest(ds.admin, func(rng *mrand.Rand) string { return ds.baseImages[rng.IntN(len(ds.baseImages))] })},
		{"digest search, a shared base image, project token", digest(ds.project, func(rng *mrand.Rand) string {
			return ds.baseImages[rng.IntN(len(ds.baseImages))]
		})},
		{"digest search, one artifact", digest(ds.admin, func(rng *mrand.Rand) string { return ds.artifacts[rng.IntN(len(ds.artifacts))] })},
		{"run page: run, attestation, materials, contract revision", func(ctx context.Context, rng *mrand.Rand) (int, error) {
			return runPage(ctx, a, ds.admin, ds.succeeded[rng.IntN(len(ds.succeeded))])
		}},
	}
	return qs
}

// runPage reads what a run's page shows: the run, its attestation and bundle, the statement's
// materials decoded from it, and the contract revision the run followed.
func runPage(ctx context.Context, a *app.App, p auth.Principal, id string) (int, error) {
	run, err := a.GetRun(ctx, p, id)
	if err != nil {
		return 0, err
	}
	_, bundle, err := a.GetAttestation(ctx, p, run.AttestationDigest)
	if err != nil {
		return 0, err
	}
	doc, err := attestation.Read(bundle)
	if err != nil {
		return 0, err
	}
	pred, err := attestation.ParsePredicate(doc.Statement)
	if err != nil {
		return 0, err
	}
	if _, err := a.GetContract(ctx, p, run.Project, run.Workflow, run.ContractRevision); err != nil {
		return 0, err
	}
	return len(pred.Materials), nil
}

// deepCursors walks the org's whole runs list, 1000 runs a page, and returns the cursors 10k, 20k,
// ... runs deep, with the time of each page.
func deepCursors(ctx context.Context, a *app.App, p auth.Principal) ([]string, []time.Duration, int, error) {
	var cursors []string
	var took []time.Duration
	cursor, seen := "", 0
	for {
		start := time.Now()
		page, err := a.ListRuns(ctx, p, app.RunQuery{Cursor: cursor, Limit: 1000})
		took = append(took, time.Since(start))
		if err != nil {
			return nil, nil, 0, err
		}
		seen += len(page.Runs)
		if page.Next == "" {
			return cursors, took, seen, nil
		}
		if seen%10000 == 0 {
			cursors = append(cursors, page.Next)
		}
		cursor = page.Next
	}
}

// sample is the latencies of one query kind in one round.
type sample struct {
	p50, p99, max time.Duration
	rows          float64 // mean rows answered
}

// measure runs each query samples times, the kinds interleaved (a busy moment of the shared machine
// hits them all), and returns each kind's percentiles.
func measure(ctx context.Context, qs []query, samples int, seed uint64) ([]sample, error) {
	rng := mrand.New(mrand.NewPCG(seed, 7))
	took := make([][]time.Duration, len(qs))
	rows := make([]int, len(qs))
	for range samples {
		for k, q := range qs {
			start := time.Now()
			n, err := q.op(ctx, rng)
			took[k] = append(took[k], time.Since(start))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", q.name, err)
			}
			rows[k] += n
		}
	}
	out := make([]sample, len(qs))
	for k := range qs {
		out[k] = percentiles(took[k])
		out[k].rows = float64(rows[k]) / float64(samples)
	}
	return out, nil
}

func percentiles(ds []time.Duration) sample {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return sample{p50: at(0.50), p99: at(0.99), max: s[len(s)-1]}
}
