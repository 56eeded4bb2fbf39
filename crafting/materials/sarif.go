package materials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindSARIF, craftSARIF) }

// claimsSARIF: a top-level $schema naming SARIF, or both version and runs.
func claimsSARIF(s *sniffed) bool {
	schema, _ := s.str("$schema")
	return strings.Contains(strings.ToLower(schema), "sarif") || s.has("version") && s.has("runs")
}

func craftSARIF(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateSARIF)
}

// sarifVersion is the only SARIF version in use (OASIS SARIF 2.1.0).
const sarifVersion = "2.1.0"

// sarifLog holds what the SARIF 2.1.0 spec makes mandatory, and nothing more: results are decoded
// only as far as their message, so a log of many results stays small in memory.
type sarifLog struct {
	Version *string    `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool *struct {
		Driver *struct {
			Name string `json:"name"`
		} `json:"driver"`
	} `json:"tool"`
	// Results is optional: absent means the tool did not say, empty means nothing was found.
	Results []sarifResult `json:"results"`
}

type sarifResult struct {
	Message *struct {
		Text *string `json:"text"`
		ID   *string `json:"id"`
	} `json:"message"`
}

// validateSARIF accepts a SARIF 2.1.0 log (OASIS): version "2.1.0", at least one run, each run's
// tool.driver.name, each result's message. There is no reference Go SARIF library, so it decodes the
// spec's required properties with encoding/json. A JSON document is taken for SARIF when its $schema
// names SARIF or it has both version and runs; anything else is not SARIF at all.
func validateSARIF(f *os.File) (map[string]string, error) {
	top := scanTopLevel(f, []string{"$schema", "version"}, []string{"runs"})
	schema, _ := top.str("$schema")
	if !strings.Contains(strings.ToLower(schema), "sarif") && !(top.has("version") && top.has("runs")) {
		return nil, notThisKind("no SARIF $schema, nor version and runs, not a SARIF log", top)
	}
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	var log sarifLog
	if err := decodeJSON(r, &log); err != nil {
		return nil, fmt.Errorf("read SARIF log: %s", syntaxReason(err))
	}
	if log.Version == nil {
		return nil, errors.New("version is missing")
	}
	if *log.Version != sarifVersion {
		return nil, fmt.Errorf("version %q is not supported (SARIF %s)", *log.Version, sarifVersion)
	}
	if len(log.Runs) == 0 {
		return nil, errors.New("the log has no runs")
	}
	var tools []string
	results := 0
	for i, run := range log.Runs {
		if run.Tool == nil || run.Tool.Driver == nil || run.Tool.Driver.Name == "" {
			return nil, fmt.Errorf("runs[%d].tool.driver.name is missing", i)
		}
		if !isOneOf(run.Tool.Driver.Name, tools) {
			tools = append(tools, run.Tool.Driver.Name)
		}
		for j, res := range run.Results {
			if res.Message == nil || (res.Message.Text == nil && res.Message.ID == nil) {
				return nil, fmt.Errorf("runs[%d].results[%d] has no message (text or id)", i, j)
			}
		}
		results += len(run.Results)
	}
	return map[string]string{
		"format":      "SARIF",
		"version":     sarifVersion,
		"tools":       strings.Join(tools, ","),
		"runs":        itoa(len(log.Runs)),
		"resultCount": itoa(results),
	}, nil
}
