package materials

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindGitLabSecurityReport, craftGitLabReport) }

func craftGitLabReport(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateGitLabReport)
}

// claimsGitLabReport: a JSON object with vulnerabilities and either scan or a version string at its
// top level (GitLab's container scanning writes scan and version after the vulnerabilities: a report
// whose first MiB holds neither is not detected; its kind can be named).
func claimsGitLabReport(s *sniffed) bool {
	version, isString := s.str("version")
	return s.format == formatJSON && s.top == '{' && s.has("vulnerabilities") &&
		(s.has("scan") || isString && gitlabVersion.MatchString(version))
}

//go:embed schemas/gitlab
var gitlabSchemaFS embed.FS

// gitlabVersion is a report schema version: MAJOR.MINOR.PATCH.
var gitlabVersion = regexp.MustCompile(`^([0-9]+)\.([0-9]+)\.([0-9]+)$`)

// gitlabReportTypes maps a report's scan.type to its schema file and the name custody records.
var gitlabReportTypes = map[string]struct{ file, name string }{
	"sast":                            {"sast-report-format.json", "SAST"},
	"dast":                            {"dast-report-format.json", "DAST"},
	"api_fuzzing":                     {"dast-report-format.json", "API Fuzzing"},
	"dependency_scanning":             {"dependency-scanning-report-format.json", "Dependency Scanning"},
	"container_scanning":              {"container-scanning-report-format.json", "Container Scanning"},
	"container_scanning_for_registry": {"container-scanning-report-format.json", "Container Scanning"},
	"secret_detection":                {"secret-detection-report-format.json", "Secret Detection"},
}

// gitlabStreamed are the top-level arrays read element by element, each element checked against the
// schema's items (their schemas hold nothing but a type and items: TestGitLabStreamedArraysArePlain);
// the rest of the report is held and checked whole, with these arrays empty.
var gitlabStreamed = []string{"vulnerabilities", "remediations"}

// maxGitLabRest bounds the members of a report other than the streamed arrays (scan, and the
// dependency_files of older dependency scanning reports), which are held whole to be checked.
const maxGitLabRest = 32 << 20

// gitlabSeverities maps GitLab's vulnerability severities.
var gitlabSeverities = map[string]severity{
	"critical": sevCritical, "high": sevHigh, "medium": sevMedium, "low": sevLow, "info": sevInfo, "unknown": sevUnknown,
}

// gitlabSchemas are the embedded schema versions (read once) and their documents, compiled on use.
var gitlabSchemas struct {
	mu       sync.Mutex
	versions []string // oldest first
	docs     map[string]*schemaDoc
	err      error
}

// gitlabSchema returns the schema of a report type in the embedded version that validates a report
// naming version: that version, or the embedded patch of its MAJOR.MINOR (GitLab's rule for a patch
// it does not vendor).
func gitlabSchema(version, file string) (*schemaDoc, string, error) {
	gitlabSchemas.mu.Lock()
	defer gitlabSchemas.mu.Unlock()
	if gitlabSchemas.docs == nil && gitlabSchemas.err == nil {
		entries, err := fs.ReadDir(gitlabSchemaFS, "schemas/gitlab")
		if err != nil {
			gitlabSchemas.err = fmt.Errorf("embedded GitLab schemas: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() && gitlabVersion.MatchString(e.Name()) {
				gitlabSchemas.versions = append(gitlabSchemas.versions, e.Name())
			}
		}
		slices.SortFunc(gitlabSchemas.versions, compareVersions)
		gitlabSchemas.docs = map[string]*schemaDoc{}
	}
	if gitlabSchemas.err != nil {
		return nil, "", gitlabSchemas.err
	}
	m := gitlabVersion.FindStringSubmatch(version)
	if m == nil {
		return nil, "", fmt.Errorf("version %q is not a schema version (MAJOR.MINOR.PATCH)", version)
	}
	chosen := ""
	for _, v := range gitlabSchemas.versions {
		if v == version {
			chosen = v
			break
		}
		if strings.HasPrefix(v, m[1]+"."+m[2]+".") {
			chosen = v
		}
	}
	if chosen == "" {
		return nil, "", fmt.Errorf("schema version %s is not supported: custody embeds GitLab's security report schemas %s (a report of another patch of one of their MAJOR.MINOR is checked against it)",
			version, strings.Join(gitlabSchemas.versions, ", "))
	}
	path := "schemas/gitlab/" + chosen + "/" + file
	d, ok := gitlabSchemas.docs[path]
	if !ok {
		d = &schemaDoc{fsys: gitlabSchemaFS, path: path}
		gitlabSchemas.docs[path] = d
	}
	return d, chosen, nil
}

// compareVersions orders MAJOR.MINOR.PATCH versions.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range 3 {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x - y
		}
	}
	return 0
}

// gitlabHead is what a report says of itself: which schema checks it.
type gitlabHead struct {
	Version *string `json:"version"`
	Scan    *struct {
		Type     *string `json:"type"`
		Analyzer *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"analyzer"`
		Scanner *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"scanner"`
	} `json:"scan"`
}

type gitlabVulnerability struct {
	Severity string `json:"severity"`
}

// validateGitLabReport accepts a GitLab security report (SAST, DAST and API fuzzing, dependency
// scanning, container scanning, secret detection) valid against GitLab's security report schema of
// its scan.type and of the version it names (gitlabSchema). Vulnerabilities and remediations are
// read and checked one at a time; the rest of the report is checked whole.
func validateGitLabReport(f *os.File) (map[string]string, error) {
	s, err := sniffFile(f)
	if err != nil {
		return nil, err
	}
	// Named as the kind, a report whose scan and version may lie past the prefix is read to know.
	pastPrefix := s.format == formatJSON && s.top == '{' && s.has("vulnerabilities") && !s.complete
	if !claimsGitLabReport(s) && !pastPrefix {
		return nil, notClaimed("not a GitLab security report: want an object with vulnerabilities, scan and version", s, '{')
	}
	head, err := readGitLabHead(f, s)
	if err != nil {
		return nil, err
	}
	switch {
	case head.Version == nil:
		return nil, errors.New("version is missing: it names the report schema the report follows")
	case head.Scan == nil || head.Scan.Type == nil:
		return nil, errors.New("scan.type is missing: it names the kind of report")
	}
	typ, ok := gitlabReportTypes[*head.Scan.Type]
	if !ok {
		known := make([]string, 0, len(gitlabReportTypes))
		for t := range gitlabReportTypes {
			known = append(known, t)
		}
		slices.Sort(known)
		return nil, fmt.Errorf("scan.type %q is not supported (%s)", *head.Scan.Type, strings.Join(known, ", "))
	}
	doc, schemaVersion, err := gitlabSchema(*head.Version, typ.file)
	if err != nil {
		return nil, err
	}
	found, err := checkGitLabReport(f, doc)
	if err != nil {
		return nil, err
	}
	tool, toolVersion := "", ""
	if sc := head.Scan.Scanner; sc != nil && sc.Name != "" {
		tool, toolVersion = sc.Name, sc.Version
	} else if an := head.Scan.Analyzer; an != nil {
		tool, toolVersion = an.Name, an.Version
	}
	v := found.summary("GitLab "+typ.name+" report "+*head.Version, tool, toolVersion)
	v["reportType"] = *head.Scan.Type
	v["schemaVersion"] = schemaVersion
	return v, nil
}

// readGitLabHead returns the report's version and scan: from the sniffed prefix when both lie in it
// whole, else from a first pass over the report that skips everything else.
func readGitLabHead(f *os.File, s *sniffed) (*gitlabHead, error) {
	var head gitlabHead
	version, scan := s.keys["version"], s.keys["scan"]
	if s.complete || version != nil && scan != nil {
		if version != nil {
			if err := json.Unmarshal(version, &head.Version); err != nil {
				return nil, fmt.Errorf("version: %s", syntaxReason(err))
			}
		}
		if scan != nil {
			if err := json.Unmarshal(scan, &head.Scan); err != nil {
				return nil, fmt.Errorf("scan: %s", syntaxReason(err))
			}
		}
		return &head, nil
	}
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	err = eachMember(r, func(key string, dec *json.Decoder) error {
		switch key {
		case "version":
			if err := dec.Decode(&head.Version); err != nil {
				return fmt.Errorf("version: %s", syntaxReason(err))
			}
			return nil
		case "scan":
			if err := dec.Decode(&head.Scan); err != nil {
				return fmt.Errorf("scan: %s", syntaxReason(err))
			}
			return nil
		}
		return skipTokens(dec)
	})
	if err != nil {
		return nil, fmt.Errorf("read GitLab security report: %w", err)
	}
	return &head, nil
}

// checkGitLabReport reads the report against the schema doc and counts its vulnerabilities.
func checkGitLabReport(f *os.File, doc *schemaDoc) (*findings, error) {
	items := map[string]*jsonschema.Schema{}
	for _, k := range gitlabStreamed {
		s, err := doc.schema("/properties/" + k + "/items")
		if err != nil {
			return nil, err
		}
		items[k] = s
	}
	root, err := doc.schema("")
	if err != nil {
		return nil, err
	}
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	var found findings
	rest, restSize := map[string]any{}, 0
	err = eachMember(r, func(key string, dec *json.Decoder) error {
		if s, ok := items[key]; ok {
			rest[key] = []any{}
			return elementsOf(dec, key, key, false, func(i int, raw json.RawMessage) error {
				where := fmt.Sprintf("%s[%d]", key, i)
				if err := validateRaw(s, where, raw); err != nil {
					return err
				}
				if key == "vulnerabilities" {
					var v gitlabVulnerability
					if err := json.Unmarshal(raw, &v); err != nil {
						return fmt.Errorf("%s: %s", where, syntaxReason(err))
					}
					found.add(severityOf(v.Severity, gitlabSeverities))
				}
				return nil
			})
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%s: %s", key, syntaxReason(err))
		}
		if restSize += len(raw); restSize > maxGitLabRest {
			return fmt.Errorf("the report's members other than %s pass %d MiB", strings.Join(gitlabStreamed, " and "), maxGitLabRest>>20)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("%s: %s", key, syntaxReason(err))
		}
		rest[key] = v
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read GitLab security report: %w", err)
	}
	if err := validateValue(root, "", rest); err != nil {
		return nil, err
	}
	return &found, nil
}
