package materials

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindZAPDASTZip, craftZAPDASTZip) }

func craftZAPDASTZip(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateZAPDASTZip)
}

// zapReportName is the JSON report in the zip ZAP's GitHub Actions upload (zaproxy/actions-common:
// the artifact zap_scan holds report_json.json, report_md.md and report_html.html).
const zapReportName = "report_json.json"

// zapArchiveLimits bound a ZAP zip: it holds three reports.
var zapArchiveLimits = archiveLimits{entries: 1000, entry: maxDocumentSize, total: 2 * maxDocumentSize}

// zapRisks maps ZAP's riskcode (its Traditional JSON report: 0 Informational, 1 Low, 2 Medium,
// 3 High) to the summary's severities. ZAP has no critical risk.
var zapRisks = map[string]severity{"0": sevInfo, "1": sevLow, "2": sevMedium, "3": sevHigh}

// claimsZAPDASTZip: a zip with an entry named report_json.json.
func claimsZAPDASTZip(s *sniffed) bool {
	return s.format == formatZip && hasZAPReport(s.entries)
}

func hasZAPReport(names []string) bool {
	for _, n := range names {
		if isZAPReport(n) {
			return true
		}
	}
	return false
}

func isZAPReport(name string) bool {
	return path.Base(strings.ReplaceAll(name, `\`, "/")) == zapReportName
}

// validateZAPDASTZip accepts the zip of ZAP's reports its GitHub Actions (baseline, full scan, API
// scan) upload: report_json.json, ZAP's Traditional JSON report, is read and checked; the other
// entries (the Markdown and HTML renderings of the same report) are not read, but are held to the
// same limits. The report must name ZAP's version (@version) and list its sites (site[], each with
// @name and alerts[]), each alert with its pluginid, name, riskcode (0 to 3) and riskdesc. Recorded:
// the alerts of every site by risk (an alert is one rule's finding on a site, with its instances,
// as ZAP's own report summary counts them).
func validateZAPDASTZip(f *os.File) (map[string]string, error) {
	s, err := sniffFile(f)
	if err != nil {
		return nil, err
	}
	if s.format != formatZip {
		return nil, fmt.Errorf("not a zip (the file reads as %s): not ZAP's zip of reports: %w", s.format, ErrNotThisKind)
	}
	var validated map[string]string
	err = walkArchive(f, formatZip, zapArchiveLimits, func(e archiveEntry) error {
		if !isZAPReport(e.name) {
			return nil
		}
		if validated != nil {
			return fmt.Errorf("a second %s (%s)", zapReportName, e.name)
		}
		v, err := readZAPReport(json.NewDecoder(&depthGuard{r: bufio.NewReader(e.body), max: maxJSONDepth}))
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		validated = v
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ZAP zip: %w", err)
	}
	if validated == nil {
		return nil, fmt.Errorf("the zip holds no %s (ZAP's JSON report): not ZAP's zip of reports: %w", zapReportName, ErrNotThisKind)
	}
	return validated, nil
}

// zapAlert is the part of an alert that is checked.
type zapAlert struct {
	PluginID *string          `json:"pluginid"`
	Name     *string          `json:"name"`
	Alert    *string          `json:"alert"` // the name, in reports before ZAP 2.10
	RiskCode *json.RawMessage `json:"riskcode"`
	RiskDesc *string          `json:"riskdesc"`
}

// readZAPReport streams ZAP's Traditional JSON report, one alert at a time.
func readZAPReport(dec *json.Decoder) (map[string]string, error) {
	found := &findings{}
	var version *string
	sites := 0
	err := streamObject(dec, "the report", func(key string) error {
		switch key {
		case "@version":
			return dec.Decode(&version)
		case "site":
			return streamArray(dec, "site", func(i int) error {
				sites++
				return readZAPSite(dec, fmt.Sprintf("site[%d]", i), found)
			})
		}
		return skipTokens(dec)
	})
	if err == nil {
		err = expectEOF(dec)
	}
	if err != nil {
		return nil, fmt.Errorf("read ZAP report: %s", syntaxReason(err))
	}
	if version == nil {
		return nil, errors.New("read ZAP report: @version (ZAP's version) is missing")
	}
	validated := found.summary("ZAP JSON report", "ZAP", *version)
	validated["sites"] = itoa(sites)
	return validated, nil
}

func readZAPSite(dec *json.Decoder, where string, found *findings) error {
	named, alerts := false, false
	err := streamObject(dec, where, func(key string) error {
		switch key {
		case "@name":
			var name *string
			if err := dec.Decode(&name); err != nil {
				return err
			}
			named = name != nil
			return nil
		case "alerts":
			alerts = true
			return streamArray(dec, where+".alerts", func(j int) error {
				var a zapAlert
				if err := dec.Decode(&a); err != nil {
					return err
				}
				return checkZAPAlert(a, fmt.Sprintf("%s.alerts[%d]", where, j), found)
			})
		}
		return skipTokens(dec)
	})
	switch {
	case err != nil:
		return err
	case !named:
		return fmt.Errorf("%s has no @name", where)
	case !alerts:
		return fmt.Errorf("%s has no alerts", where)
	}
	return nil
}

func checkZAPAlert(a zapAlert, where string, found *findings) error {
	switch {
	case a.PluginID == nil:
		return fmt.Errorf("%s has no pluginid", where)
	case a.Name == nil && a.Alert == nil:
		return fmt.Errorf("%s has no name", where)
	case a.RiskCode == nil:
		return fmt.Errorf("%s has no riskcode", where)
	case a.RiskDesc == nil || *a.RiskDesc == "":
		return fmt.Errorf("%s has no riskdesc", where)
	}
	// ZAP writes the code as a string; a report rewritten by a script may hold a number.
	code := strings.Trim(string(*a.RiskCode), `"`)
	severity, ok := zapRisks[code]
	if !ok {
		return fmt.Errorf("%s: riskcode %s is not one of 0 (Informational), 1 (Low), 2 (Medium), 3 (High)", where, *a.RiskCode)
	}
	found.add(severity)
	return nil
}
