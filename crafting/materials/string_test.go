package materials

import (
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		value   string
		wantErr string
	}{
		{name: "git commit sha", value: "80e461e9b385c6986cdb8096c9dc99928943d667"},
		{name: "text with spaces and unicode", value: "release 1.2 — «stable»"},
		{name: "exactly 4096 bytes", value: strings.Repeat("a", 4096)},
		{name: "empty", value: "", wantErr: "empty value"},
		{name: "4097 bytes", value: strings.Repeat("a", 4097), wantErr: "longer than 4096 bytes: add it as a file (ARTIFACT or EVIDENCE)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := newIsolatedCrafter(t, Options{}).Craft(t.Context(), contract.KindString, tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "STRING ") {
					t.Fatalf("error = %v, want a STRING error mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind != contract.KindString || m.Value != tc.value || m.Digest != "" || m.File != nil || m.Image != nil {
				t.Errorf("material = %+v, want a STRING holding the value and nothing else", m)
			}
			if !m.AddedAt.Equal(fixedNow) {
				t.Errorf("AddedAt = %v, want the injected clock's %v", m.AddedAt, fixedNow)
			}
		})
	}
}
