package materials

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
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
	Version *string   `json:"version"`
	Runs    sarifRuns `json:"runs"`
}

// sarifRuns is the log's runs, and whether the property is there at all: it is required, but may
// be [] (no run was performed) or null (a failure kept any run from starting), SARIF 2.1.0 3.13.4.
type sarifRuns struct {
	present bool
	runs    []sarifRun
}

func (r *sarifRuns) UnmarshalJSON(data []byte) error {
	r.present = true
	if string(data) == "null" {
		return nil
	}
	return json.Unmarshal(data, &r.runs)
}

type sarifRun struct {
	Tool *struct {
		Driver     *sarifToolComponent  `json:"driver"`
		Extensions []sarifToolComponent `json:"extensions"`
	} `json:"tool"`
	// Results is optional: absent means the tool did not say, empty means nothing was found.
	Results []sarifResult `json:"results"`
}

// sarifToolComponent is a run's driver or one of its extensions (CodeQL's query packs hold their
// rules there).
type sarifToolComponent struct {
	Name            string      `json:"name"`
	Version         string      `json:"version"`
	SemanticVersion string      `json:"semanticVersion"`
	Rules           []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string `json:"id"`
	DefaultConfiguration *struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
	Properties *sarifProperties `json:"properties"`
}

// sarifProperties is the part of a property bag the summary reads: GitHub's security-severity, a
// CVSS-like score from 0.0 to 10.0, as a string (or a number, as some tools write it).
type sarifProperties struct {
	SecuritySeverity json.RawMessage `json:"security-severity"`
}

type sarifResult struct {
	Message *struct {
		Text *string `json:"text"`
		ID   *string `json:"id"`
	} `json:"message"`
	Kind      string `json:"kind"`
	Level     string `json:"level"`
	RuleID    string `json:"ruleId"`
	RuleIndex *int   `json:"ruleIndex"`
	Rule      *struct {
		ID            string `json:"id"`
		Index         *int   `json:"index"`
		ToolComponent *struct {
			Index *int `json:"index"`
		} `json:"toolComponent"`
	} `json:"rule"`
	Properties *sarifProperties `json:"properties"`
}

// validateSARIF accepts a SARIF 2.1.0 log (OASIS): version "2.1.0", runs (perhaps none), each run's
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
	if !log.Runs.present {
		return nil, errors.New("runs is missing")
	}
	var tools, versions []string
	var found sarifFindings
	results := 0
	for i, run := range log.Runs.runs {
		if run.Tool == nil || run.Tool.Driver == nil || run.Tool.Driver.Name == "" {
			return nil, fmt.Errorf("runs[%d].tool.driver.name is missing", i)
		}
		driver := run.Tool.Driver
		if !isOneOf(driver.Name, tools) {
			tools = append(tools, driver.Name)
		}
		if v := cmp.Or(driver.SemanticVersion, driver.Version); v != "" && !isOneOf(v, versions) {
			versions = append(versions, v)
		}
		for j, res := range run.Results {
			if res.Message == nil || (res.Message.Text == nil && res.Message.ID == nil) {
				return nil, fmt.Errorf("runs[%d].results[%d] has no message (text or id)", i, j)
			}
			found.add(&run, &res)
		}
		results += len(run.Results)
	}
	toolVersion := ""
	if len(tools) == 1 && len(versions) == 1 {
		toolVersion = versions[0]
	}
	validated := found.summary("SARIF", strings.Join(tools, ","), toolVersion)
	validated["version"] = sarifVersion
	validated["runs"] = itoa(len(log.Runs.runs))
	validated["resultCount"] = itoa(results)
	if len(tools) > 0 {
		validated["tools"] = validated["tool"]
	}
	return validated, nil
}

// sarifLevels maps a result's SARIF level (3.27.10) to a severity, the way GitHub shows levels
// (error, warning, note) and defect trackers import them.
var sarifLevels = map[string]severity{"error": sevHigh, "warning": sevMedium, "note": sevLow, "none": sevInfo}

// sarifFindings counts the results of a log that are findings, by severity (docs/materials.md has
// the table).
type sarifFindings struct{ findings }

// add counts res, a result of run: a pass or notApplicable result is no finding; the others are
// ranked by their security-severity (the result's, else its rule's) as GitHub ranks it, else by
// their level (the result's, else its rule's default, else warning; none for a result whose kind is
// not fail).
func (f *sarifFindings) add(run *sarifRun, res *sarifResult) {
	if res.Kind == "pass" || res.Kind == "notApplicable" {
		return
	}
	rule := run.rule(res)
	score := sarifScore(res.Properties)
	if score < 0 && rule != nil {
		score = sarifScore(rule.Properties)
	}
	if score >= 0 {
		f.findings.add(securitySeverity(score))
		return
	}
	level := res.Level
	if level == "" && rule != nil && rule.DefaultConfiguration != nil {
		level = rule.DefaultConfiguration.Level
	}
	switch {
	case level == "" && res.Kind != "" && res.Kind != "fail":
		level = "none"
	case level == "":
		level = "warning"
	}
	sev, ok := sarifLevels[level]
	if !ok {
		sev = sevUnknown
	}
	f.findings.add(sev)
}

// rule finds the rule a result refers to: by index, or by id, in the driver or the extension its
// rule.toolComponent names; nil when the log does not describe it.
func (run *sarifRun) rule(res *sarifResult) *sarifRule {
	component := run.Tool.Driver
	index, id := res.RuleIndex, res.RuleID
	if r := res.Rule; r != nil {
		index, id = cmp.Or(r.Index, index), cmp.Or(r.ID, id)
		if r.ToolComponent != nil && r.ToolComponent.Index != nil {
			i := *r.ToolComponent.Index
			if i < 0 || i >= len(run.Tool.Extensions) {
				return nil
			}
			component = &run.Tool.Extensions[i]
		}
	}
	if index != nil && *index >= 0 && *index < len(component.Rules) {
		return &component.Rules[*index]
	}
	for i := range component.Rules {
		// A hierarchical ruleId (CA2101/1) names its rule by its first component.
		if r := &component.Rules[i]; id != "" && (r.ID == id || strings.HasPrefix(id, r.ID+"/")) {
			return r
		}
	}
	return nil
}

// sarifScore is a property bag's security-severity, from 0.0 to 10.0, or -1 when it has none (or
// not a number in that range).
func sarifScore(p *sarifProperties) float64 {
	if p == nil || len(p.SecuritySeverity) == 0 {
		return -1
	}
	raw := strings.Trim(string(p.SecuritySeverity), `"`)
	score, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || score < 0 || score > 10 {
		return -1
	}
	return score
}

// securitySeverity ranks a security-severity score as GitHub's code scanning does: 9.0 and over
// critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, 3.9 or less low.
func securitySeverity(score float64) severity {
	switch {
	case score >= 9:
		return sevCritical
	case score >= 7:
		return sevHigh
	case score >= 4:
		return sevMedium
	}
	return sevLow
}
