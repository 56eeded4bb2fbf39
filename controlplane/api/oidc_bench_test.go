package api_test

import (
	"slices"
	"testing"
	"time"

	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/wire"
)

// BenchmarkExchange measures what the OIDC exchange adds to a pipeline's init: one POST /v1/auth/oidc
// over loopback, with the issuer's keys cached (a first exchange fetched them), against the init that
// follows with the credential. It reports the medians (exchange-p50-ms, init-p50-ms) beside the mean.
// The ID tokens are signed outside the timed part.
//
//	go test ./controlplane/api -run XXX -bench BenchmarkExchange -benchtime 200x
func BenchmarkExchange(b *testing.B) {
	iss := oidctest.New(b)
	srv := cptest.New(b, cptest.Options{OIDCIssuers: []string{iss.URL}})
	srv.Workflow(b, "alpha", "build", "", nil)
	ctx := b.Context()
	if _, err := srv.Admin(b).AddTrustPolicy(ctx, "alpha", "build", wire.TrustPolicy{Issuer: iss.URL, Claims: map[string]string{"repository": "acme/app"}}); err != nil {
		b.Fatal(err)
	}
	anon := srv.Client(b, "")
	exchange := func() *wire.Exchanged {
		out, err := anon.ExchangeOIDC(ctx, wire.ExchangeOIDC{Token: iss.Token(b, oidctest.GitHubClaims("acme/app", "refs/heads/main")), Project: "alpha", Workflow: "build"})
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	exchange() // discovery and key set: fetched once, cached from then on
	var exchanges, inits []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		req := wire.ExchangeOIDC{Token: iss.Token(b, oidctest.GitHubClaims("acme/app", "refs/heads/main")), Project: "alpha", Workflow: "build"}
		b.StartTimer()
		start := time.Now()
		out, err := anon.ExchangeOIDC(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		exchanges = append(exchanges, time.Since(start))
		b.StopTimer()
		start = time.Now()
		if _, err := srv.Client(b, out.Token).InitRun(ctx, wire.InitRun{Project: "alpha", Workflow: "build"}); err != nil {
			b.Fatal(err)
		}
		inits = append(inits, time.Since(start))
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(median(exchanges), "exchange-p50-ms")
	b.ReportMetric(median(inits), "init-p50-ms")
}

func median(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[len(s)/2]) / float64(time.Millisecond)
}
