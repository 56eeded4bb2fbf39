package trustroot_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/trustroot"
	"github.com/custody-dev/custody/controlplane/tsa"
	"github.com/custody-dev/custody/internal/testclock"
)

var t0 = time.Date(2026, 11, 27, 10, 4, 0, 0, time.UTC)

type fixture struct {
	retired, current, timestamping trustroot.Entry
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	clk := testclock.New(t0)
	old, _, err := ca.Generate("custody test", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * 24 * time.Hour)
	cur, _, err := ca.Generate("custody test", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	// The TSA's chain must be valid at the wall clock: its timestamps' PKCS #7 signing time is the wall clock's.
	ts, _, err := tsa.Generate("custody test", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{
		retired:      trustroot.Entry{Chain: old.Chain, URI: "https://custody.example", Start: t0, End: clk.Now().Add(ca.LeafValidity)},
		current:      trustroot.Entry{Chain: cur.Chain, URI: "https://custody.example", Start: clk.Now()},
		timestamping: trustroot.Entry{Chain: ts.Chain, URI: "https://custody.example", Start: ts.Chain[0].NotBefore},
	}
}

// TestBuild: sigstore-go reads the trusted root, with every chain (intermediate and root, or TSA
// leaf and root) and its window, an open one without an end.
func TestBuild(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	data, err := trustroot.Build([]trustroot.Entry{f.current, f.retired}, []trustroot.Entry{f.timestamping})
	if err != nil {
		t.Fatal(err)
	}
	var head struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.MediaType != trustroot.MediaType {
		t.Fatalf("media type %q (%v), want %q", head.MediaType, err, trustroot.MediaType)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		t.Fatalf("sigstore-go refuses the trusted root: %v", err)
	}
	cas := tr.FulcioCertificateAuthorities()
	if len(cas) != 2 {
		t.Fatalf("%d certificate authorities, want 2", len(cas))
	}
	for i, want := range []trustroot.Entry{f.current, f.retired} {
		got := cas[i].(*root.FulcioCertificateAuthority)
		if !got.Root.Equal(want.Chain[1]) || len(got.Intermediates) != 1 || !got.Intermediates[0].Equal(want.Chain[0]) {
			t.Errorf("authority %d: another chain", i)
		}
		if !got.ValidityPeriodStart.Equal(want.Start) || !got.ValidityPeriodEnd.Equal(want.End) || got.URI != want.URI {
			t.Errorf("authority %d: window %s..%s at %q, want %s..%s at %q", i, got.ValidityPeriodStart, got.ValidityPeriodEnd, got.URI, want.Start, want.End, want.URI)
		}
	}
	tsas := tr.TimestampingAuthorities()
	if len(tsas) != 1 {
		t.Fatalf("%d timestamp authorities, want 1", len(tsas))
	}
	got := tsas[0].(*root.SigstoreTimestampingAuthority)
	if got.Leaf == nil || !got.Leaf.Equal(f.timestamping.Chain[0]) || !got.Root.Equal(f.timestamping.Chain[1]) ||
		!got.ValidityPeriodStart.Equal(f.timestamping.Start) || !got.ValidityPeriodEnd.IsZero() {
		t.Errorf("timestamp authority: leaf %v, window %s..%s; want its own chain from %s, open", got.Leaf != nil, got.ValidityPeriodStart, got.ValidityPeriodEnd, f.timestamping.Start)
	}
	again, err := trustroot.Build([]trustroot.Entry{f.current, f.retired}, []trustroot.Entry{f.timestamping})
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("the same authorities built twice differ: %v", err)
	}
}

// TestBuildRefusals: an entry without a chain or a start, or whose window ends before it starts.
func TestBuildRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	noChain, noStart, backwards := f.current, f.current, f.retired
	noChain.Chain = nil
	noStart.Start = time.Time{}
	backwards.End = backwards.Start.Add(-time.Second)
	for _, tc := range []struct {
		name      string
		cas, tsas []trustroot.Entry
		want      string
	}{
		{"no chain", []trustroot.Entry{noChain}, nil, "certificate authority 1: no certificate chain"},
		{"no start", nil, []trustroot.Entry{f.timestamping, noStart}, "timestamp authority 2: no start"},
		{"backwards", []trustroot.Entry{f.current, backwards}, nil, "certificate authority 2: its window ends"},
	} {
		if _, err := trustroot.Build(tc.cas, tc.tsas); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestParse: what Build wrote reads back the same; what is not a trusted root custody can use is
// refused with the reason.
func TestParse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	data, err := trustroot.Build([]trustroot.Entry{f.current, f.retired}, []trustroot.Entry{f.timestamping})
	if err != nil {
		t.Fatal(err)
	}
	cas, tsas, err := trustroot.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(cas) != 2 || len(tsas) != 1 || !cas[1].Equal(f.retired) || !cas[0].Equal(f.current) || !tsas[0].Equal(f.timestamping) {
		t.Errorf("read back %d and %d authorities, not the ones written", len(cas), len(tsas))
	}

	der := f.current.Chain[0].Raw
	bad := strings.Replace(string(data), b64(der), b64(der[:len(der)-3]), 1)
	for _, tc := range []struct {
		name string
		data string
		want string
	}{
		{"too large", `{"mediaType":"` + strings.Repeat(" ", trustroot.MaxSize) + `"}`, "larger than the limit of 4 MiB"},
		{"not JSON", "trusted_root", "trusted root:"},
		{"another media type", `{"mediaType":"application/json"}`, `media type "application/json"`},
		{"a transparency log", `{"mediaType":"` + trustroot.MediaType + `","tlogs":[{"baseUrl":"https://rekor.example"}]}`, "transparency or CT logs"},
		{"a broken certificate", bad, "certificate authority 1: certificate 1:"},
		{"no chain", `{"mediaType":"` + trustroot.MediaType + `","timestampAuthorities":[{"validFor":{"start":"2026-01-01T00:00:00Z"}}]}`, "timestamp authority 1: no certificate chain"},
		{"a window out of range", strings.Replace(string(data), `"start": "`+f.current.Start.Format("2006-01-02"), `"start": "0000-01-01`, 1), "out of range"},
	} {
		if _, _, err := trustroot.Parse([]byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func b64(der []byte) string {
	out, _ := json.Marshal(der)
	return strings.Trim(string(out), `"`)
}

// FuzzParse: any bytes: no panic, and what is accepted builds back into a trusted root that reads
// the same.
func FuzzParse(f *testing.F) {
	fx := newFixture(f)
	data, err := trustroot.Build([]trustroot.Entry{fx.current, fx.retired}, []trustroot.Entry{fx.timestamping})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"mediaType":"` + trustroot.MediaType + `"}`))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cas, tsas, err := trustroot.Parse(data)
		if err != nil {
			return
		}
		rebuilt, err := trustroot.Build(cas, tsas)
		if err != nil {
			t.Fatalf("an accepted trusted root does not build again: %v", err)
		}
		cas2, tsas2, err := trustroot.Parse(rebuilt)
		if err != nil || len(cas2) != len(cas) || len(tsas2) != len(tsas) {
			t.Fatalf("rebuilt: %v", err)
		}
		for i := range cas {
			if !cas[i].Equal(cas2[i]) {
				t.Fatalf("certificate authority %d changed", i)
			}
		}
		if _, err := root.NewTrustedRootFromJSON(rebuilt); err != nil {
			t.Fatalf("sigstore-go refuses a trusted root custody accepted: %v", err)
		}
	})
}
