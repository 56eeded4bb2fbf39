package materials

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindOSSFScorecardJSON, craftScorecard) }

func craftScorecard(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateScorecard)
}

// claimsScorecard: a JSON object with scorecard, checks and repo at its top level.
func claimsScorecard(s *sniffed) bool {
	return s.format == formatJSON && s.top == '{' && s.has("scorecard") && s.has("checks") && s.has("repo")
}

// maxScorecardSize bounds a scorecard result, which is read whole to be checked against its schema:
// one is a few KiB (a check per line of a short list).
const maxScorecardSize = 8 << 20

//go:embed schemas/scorecard/json.v2.schema.json
var scorecardSchemaFS embed.FS

// scorecardSchema is scorecard's own schema of its JSON output (pkg/scorecard/json.v2.schema),
// with two adjustments made when it is loaded: its $schema, "http://json-schema.org/schema#" (the
// latest draft, which the schema predates), is read as draft-07; and a check's details and the
// metadata may be null, as scorecard's own encoder writes them when they are empty (a run without
// --show-details: pkg/scorecard/json.go marshals a nil []string).
var scorecardSchema = &schemaDoc{fsys: scorecardSchemaFS, path: "schemas/scorecard/json.v2.schema.json", patch: func(doc map[string]any) {
	doc["$schema"] = "http://json-schema.org/draft-07/schema#"
	props, _ := doc["properties"].(map[string]any)
	orNull := func(s any) {
		if m, ok := s.(map[string]any); ok {
			m["type"] = []any{m["type"], "null"}
		}
	}
	orNull(props["metadata"])
	if checks, ok := props["checks"].(map[string]any); ok {
		if items, ok := checks["items"].(map[string]any); ok {
			if p, ok := items["properties"].(map[string]any); ok {
				orNull(p["details"])
			}
		}
	}
}}

type scorecardResult struct {
	Score     float64 `json:"score"`
	Scorecard struct {
		Version string `json:"version"`
	} `json:"scorecard"`
	Repo struct {
		Name string `json:"name"`
	} `json:"repo"`
	Checks []json.RawMessage `json:"checks"`
}

// validateScorecard accepts the output of `scorecard --format json` valid against scorecard's
// schema of it (scorecardSchema). A scorecard result has no findings by severity: it records the
// aggregate score and the number of checks run.
func validateScorecard(f *os.File) (map[string]string, error) {
	s, err := sniffFile(f)
	if err != nil {
		return nil, err
	}
	if !claimsScorecard(s) {
		return nil, notClaimed("not an OpenSSF Scorecard JSON result: want an object with scorecard, checks and repo", s, '{')
	}
	schema, err := scorecardSchema.schema("")
	if err != nil {
		return nil, err
	}
	data, err := readSmallDocument(f, maxScorecardSize, "an OpenSSF Scorecard result")
	if err != nil {
		return nil, err
	}
	if err := validateRaw(schema, "", data); err != nil {
		return nil, err
	}
	var res scorecardResult
	if err := decodeJSON(bytes.NewReader(data), &res); err != nil {
		return nil, errors.New(syntaxReason(err))
	}
	if res.Scorecard.Version == "" {
		return nil, fmt.Errorf("scorecard.version is empty")
	}
	return map[string]string{
		"format":      "OpenSSF Scorecard JSON",
		"tool":        "scorecard",
		"toolVersion": res.Scorecard.Version,
		"repo":        res.Repo.Name,
		// scorecard writes the aggregate score with one decimal (pkg/scorecard/json.go).
		"score":  strconv.FormatFloat(res.Score, 'f', 1, 64),
		"checks": itoa(len(res.Checks)),
	}, nil
}
