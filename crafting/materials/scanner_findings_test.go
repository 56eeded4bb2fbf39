package materials

import (
	"maps"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// counted is the summary a scanner kind records: format, the findings by severity (critical, high,
// medium, low, info, unknown) and extra keys (tool, toolVersion, ...).
func counted(format string, bySeverity [6]int, extra map[string]string) map[string]string {
	var f findings
	for s, n := range bySeverity {
		for range n {
			f.add(severity(s))
		}
	}
	v := f.summary(format, "", "")
	maps.Copy(v, extra)
	return v
}

// shapeCase is a document written to a temporary file and given to Craft as one kind.
type shapeCase struct {
	name, doc   string
	want        map[string]string
	wantErr     []string
	notThisKind bool
}

func runShapeCases(t *testing.T, kind contract.Kind, file string, cases []shapeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeTemp(t, file, tc.doc)
			m, err := newDocCrafter(t).Craft(t.Context(), kind, path)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("accepted it (%v), want an error", m.Validated)
				}
				checkDocError(t, err, kind, path, tc.wantErr, tc.notThisKind)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(m.Validated, tc.want) {
				t.Errorf("Validated = %v\nwant        %v", m.Validated, tc.want)
			}
		})
	}
}

func TestSeverityOf(t *testing.T) {
	t.Parallel()
	table := map[string]severity{"critical": sevCritical, "moderate": sevMedium}
	for word, want := range map[string]severity{
		"Critical": sevCritical, " MODERATE ": sevMedium, "": sevUnknown, "severe": sevUnknown,
	} {
		if got := severityOf(word, table); got != want {
			t.Errorf("severityOf(%q) = %s, want %s", word, severityKeys[got], severityKeys[want])
		}
	}
}

func TestFindingsSummaryHasEveryKey(t *testing.T) {
	t.Parallel()
	var f findings
	f.add(sevHigh)
	f.add(sevHigh)
	f.add(sevUnknown)
	got := f.summary("X report", "x", "1.0")
	want := map[string]string{
		"format": "X report", "tool": "x", "toolVersion": "1.0", "findings": "3",
		"findings.critical": "0", "findings.high": "2", "findings.medium": "0", "findings.low": "0",
		"findings.info": "0", "findings.unknown": "1",
	}
	if !maps.Equal(got, want) {
		t.Errorf("summary = %v\nwant      %v", got, want)
	}
}
