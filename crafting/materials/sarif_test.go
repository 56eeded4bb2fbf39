package materials

import (
	"maps"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftSARIF(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindSARIF, []docCase{
		{file: "sarif/gosec.sarif", want: map[string]string{
			"format": "SARIF", "version": "2.1.0", "tools": "gosec", "runs": "1", "resultCount": "7",
		}},
		{file: "sarif/gosec-clean.sarif", want: map[string]string{
			"format": "SARIF", "version": "2.1.0", "tools": "gosec", "runs": "1", "resultCount": "0",
		}},
		{file: "sarif/broken-version.sarif", wantErr: []string{`version "2.0.0" is not supported (SARIF 2.1.0)`}},
		// SARIF 2.1.0 3.13.4: no run performed ([]), or a failure before any run (null).
		{file: "sarif/empty-runs.sarif", want: map[string]string{"format": "SARIF", "version": "2.1.0", "runs": "0", "resultCount": "0"}},
		{file: "sarif/null-runs.sarif", want: map[string]string{"format": "SARIF", "version": "2.1.0", "runs": "0", "resultCount": "0"}},
		{file: "sarif/broken-no-driver-name.sarif", wantErr: []string{"runs[0].tool.driver.name is missing"}},
		{file: "sarif/broken-result-no-message.sarif", wantErr: []string{"runs[0].results[3] has no message"}},
		// gosec writes runs before version: cut in half, nothing says SARIF any more.
		{file: "sarif/broken-truncated.sarif", wantErr: []string{"not a SARIF log", "truncated"}, notThisKind: true},
		{file: "other/package.json", wantErr: []string{"not a SARIF log"}, notThisKind: true},
	})
}

func TestCraftSARIFShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, json string
		want       map[string]string
		wantErr    []string
	}{
		{
			name: "two runs of two tools, one without results",
			json: `{"version": "2.1.0", "runs": [
				{"tool": {"driver": {"name": "CodeQL"}}, "results": [{"message": {"id": "default"}}]},
				{"tool": {"driver": {"name": "golangci-lint"}}},
				{"tool": {"driver": {"name": "CodeQL"}}, "results": []}]}`,
			want: map[string]string{"format": "SARIF", "version": "2.1.0", "tools": "CodeQL,golangci-lint", "runs": "3", "resultCount": "1"},
		},
		{
			name:    "schema names SARIF, version missing",
			json:    `{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": []}`,
			wantErr: []string{"version is missing"},
		},
		{
			name:    "runs missing",
			json:    `{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0"}`,
			wantErr: []string{"runs is missing"},
		},
		{
			name:    "data after the log",
			json:    `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}}]} {}`,
			wantErr: []string{"data after the end of the document"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeTemp(t, "scan.sarif", tc.json)
			m, err := newDocCrafter(t).Craft(t.Context(), contract.KindSARIF, path)
			if tc.wantErr != nil {
				checkDocError(t, err, contract.KindSARIF, path, tc.wantErr, false)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(m.Validated, tc.want) {
				t.Errorf("Validated = %v, want %v", m.Validated, tc.want)
			}
		})
	}
}
