package materials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindTrufflehogJSON, craftTrufflehog) }

func craftTrufflehog(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateTrufflehog)
}

// claimsTrufflehog: JSON Lines (or one JSON object) whose first object has DetectorName and
// SourceMetadata, as every line of `trufflehog --json` does.
func claimsTrufflehog(s *sniffed) bool {
	return (s.format == formatJSONLines || s.format == formatJSON && s.top == '{') &&
		s.has("DetectorName") && s.has("SourceMetadata")
}

// trufflehogFinding holds the fields of a `trufflehog --json` line that custody checks (trufflehog
// v3 pkg/output/json.go writes every one of them on every line; it publishes no schema).
type trufflehogFinding struct {
	SourceMetadata json.RawMessage `json:"SourceMetadata"`
	DetectorName   *string         `json:"DetectorName"`
	DetectorType   *int            `json:"DetectorType"`
	Verified       *bool           `json:"Verified"`
	SourceName     string          `json:"SourceName"`
	DecoderName    string          `json:"DecoderName"`
	Raw            string          `json:"Raw"`
	Redacted       string          `json:"Redacted"`
}

// validateTrufflehog accepts the output of `trufflehog --json`: JSON Lines, one finding per line,
// each with SourceMetadata, a non-empty DetectorName, DetectorType and Verified. An empty file is
// what trufflehog writes when it finds nothing: a clean scan. trufflehog gives findings no severity:
// every finding counts as unknown; verified counts those trufflehog confirmed live.
func validateTrufflehog(f *os.File) (map[string]string, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat file: %w", err)
	}
	var found findings
	verified := 0
	if info.Size() > 0 {
		s, err := sniffFile(f)
		if err != nil {
			return nil, err
		}
		if !claimsTrufflehog(s) {
			return nil, notClaimed("not trufflehog JSON output: want JSON Lines of findings with DetectorName and SourceMetadata", s, 0)
		}
		r, err := openDocument(f)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(r)
		for line := 0; ; line++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("read trufflehog output: finding %d: %s", line+1, syntaxReason(err))
			}
			var t trufflehogFinding
			where := fmt.Sprintf("finding %d", line+1)
			if err := decodeElement(where, raw, &t); err != nil {
				return nil, err
			}
			switch {
			case t.DetectorName == nil || *t.DetectorName == "":
				return nil, fmt.Errorf("%s has no DetectorName", where)
			case t.SourceMetadata == nil:
				return nil, fmt.Errorf("%s (%s) has no SourceMetadata", where, *t.DetectorName)
			case t.DetectorType == nil:
				return nil, fmt.Errorf("%s (%s) has no DetectorType", where, *t.DetectorName)
			case t.Verified == nil:
				return nil, fmt.Errorf("%s (%s) has no Verified", where, *t.DetectorName)
			}
			found.add(sevUnknown)
			if *t.Verified {
				verified++
			}
		}
	}
	v := found.summary("TruffleHog JSON Lines", "trufflehog", "")
	v["verified"] = itoa(verified)
	return v, nil
}
