package ui

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/wire"
)

// runView is a run as `custody attestation status --full` shows it, for a person: the run, its
// contract and revision, the runner, the git head, the materials, the subjects, the signer, the
// verdict made now and the commands that verify the bundle offline.
type runView struct {
	Run      *wire.Run
	Verdict  *app.Verdict
	Contract *contract.Contract
	// ContractProblem says why the run's contract revision is not shown.
	ContractProblem string
	Materials       []materialRow
	Subjects        []subjectRow
	// CI is what the signing certificate says of the CI job that signed (Fulcio's extensions).
	CI       []kv
	Commands []command
	// BundleName is the file the bundle downloads as, which the commands name.
	BundleName string
	BaseURL    string
}

// materialRow is a row of the materials table: a contract material, set or not, or one added beyond
// the contract.
type materialRow struct {
	Name, Kind             string
	Set, Required, Output  bool
	Value, Digest          string
	Validated, Annotations []kv
	// Download links to the stored file, for a file the attestation says it uploaded.
	Download string
}

type subjectRow struct {
	Name    string
	Digests []kv
}

// command is an offline verification command, explained.
type command struct {
	Title, Text string
}

func (h *Handler) run(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	ctx := r.Context()
	run, err := h.app.GetRun(ctx, s.Principal, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := runView{Run: run, BaseURL: h.baseURL}
	if rev, err := h.app.GetContract(ctx, s.Principal, run.Project, run.Workflow, run.ContractRevision); err != nil {
		v.ContractProblem = err.Error()
	} else if v.Contract, err = contract.Parse([]byte(rev.Contract)); err != nil {
		v.ContractProblem = "the stored revision does not parse: " + err.Error()
	}
	var pred *attestation.Predicate
	if run.AttestationDigest != "" {
		if v.Verdict, err = h.app.Verdict(ctx, s.Principal, run.AttestationDigest); err != nil {
			return err
		}
		pred = v.Verdict.Predicate
		v.BundleName = bundleName(run.AttestationDigest)
		for _, sub := range v.Verdict.Subjects {
			v.Subjects = append(v.Subjects, subjectRow{Name: sub.Name, Digests: sortedKV(sub.Digest)})
		}
		v.CI = ciClaims(v.Verdict)
		v.Commands = verifyCommands(h.baseURL, run, v.Verdict, v.BundleName)
	}
	v.Materials = materialRows(v.Contract, pred)
	h.render(w, r, s, http.StatusOK, "run", "Run "+run.ID, v)
	return nil
}

// materialRows lists the contract's materials in its order, then those added beyond it, as the status
// table does.
func materialRows(c *contract.Contract, p *attestation.Predicate) []materialRow {
	var rows []materialRow
	recorded := map[string]*attestation.Material{}
	if p != nil {
		for i := range p.Materials {
			recorded[p.Materials[i].Name] = &p.Materials[i]
		}
	}
	inContract := map[string]bool{}
	if c != nil {
		for _, spec := range c.Spec.Materials {
			inContract[spec.Name] = true
			row := materialRow{Name: spec.Name, Kind: string(spec.Type), Required: !spec.Optional, Output: spec.Output}
			if m := recorded[spec.Name]; m != nil {
				row.fill(m)
			}
			rows = append(rows, row)
		}
	}
	if p != nil {
		for i := range p.Materials {
			m := &p.Materials[i]
			if inContract[m.Name] {
				continue
			}
			row := materialRow{Name: m.Name, Kind: string(m.Kind), Output: m.Output}
			row.fill(m)
			rows = append(rows, row)
		}
	}
	return rows
}

func (row *materialRow) fill(m *attestation.Material) {
	row.Set, row.Value, row.Digest = true, m.Value, m.Digest
	row.Validated, row.Annotations = sortedKV(m.Validated), sortedKV(m.Annotations)
	if m.File != nil && m.File.Uploaded && m.Digest != "" {
		row.Download = "/ui/blobs/" + m.Digest + "?" + url.Values{"name": {m.File.Name}}.Encode()
	}
}

func sortedKV(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
	return out
}

// ciClaims lists what a verified certificate of a CI job says of the job, by Fulcio's extensions.
func ciClaims(v *app.Verdict) []kv {
	if v.Certificate == nil {
		return nil
	}
	e := v.Certificate.Extensions
	var out []kv
	for _, c := range []kv{
		{"Repository", e.SourceRepositoryURI}, {"Ref", e.SourceRepositoryRef}, {"Commit", e.SourceRepositoryDigest},
		{"Workflow", e.BuildConfigURI}, {"Trigger", e.BuildTrigger}, {"Runner environment", e.RunnerEnvironment},
		{"Run", e.RunInvocationURI}, {"Repository visibility", e.SourceRepositoryVisibilityAtSigning},
	} {
		if c.V != "" {
			out = append(out, c)
		}
	}
	return out
}

// bundleName is the file a bundle downloads as.
func bundleName(digest string) string {
	_, hex, _ := strings.Cut(digest, ":")
	return "custody-" + hex[:min(len(hex), 12)] + ".sigstore.json"
}

// emptyTrustedRoot is the trusted root cosign needs offline for a key-signed bundle.
const emptyTrustedRoot = `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}`

// verifyCommands are the commands that verify the run's bundle offline, with custody and with cosign,
// for the identity that signed it (keyless) or the workflow's key, and the first subject's digest.
func verifyCommands(baseURL string, run *wire.Run, v *app.Verdict, bundle string) []command {
	var sha string
	for _, s := range v.Subjects {
		if d := s.Digest["sha256"]; d != "" {
			sha = d
			break
		}
	}
	custody := []string{"custody", "attestation", "verify"}
	cosign := []string{"cosign", "verify-blob-attestation", "--new-bundle-format"}
	var setup command
	switch {
	case v.Signer != nil:
		setup = command{"The control plane's trusted root (its CA and timestamp authority)",
			shellLine("custody", "trusted-root", "--control-plane", baseURL) + " > trusted_root.json"}
		custody = append(custody, "--trusted-root", "trusted_root.json", "--certificate-identity", v.Signer.SAN,
			"--certificate-oidc-issuer", v.Signer.Issuer)
		cosign = append(cosign, "--trusted-root", "trusted_root.json", "--insecure-ignore-tlog", "--insecure-ignore-sct",
			"--use-signed-timestamps", "--certificate-identity", v.Signer.SAN, "--certificate-oidc-issuer", v.Signer.Issuer)
	case v.KeyHint != "":
		setup = command{"The workflow's public key as cosign.pub (the Trusted keys page has it, hint " + v.KeyHint + "), and an empty trusted root for cosign",
			"cat > trusted_root.json <<'JSON'\n" + emptyTrustedRoot + "\nJSON"}
		custody = append(custody, "--key", "cosign.pub")
		cosign = append(cosign, "--key", "cosign.pub", "--insecure-ignore-tlog", "--trusted-root", "trusted_root.json")
	default:
		return nil
	}
	custody = append(custody, "--workflow", run.Workflow, "--project", run.Project)
	cosign = append(cosign, "--type", attestation.PredicateType)
	if sha != "" {
		custody = append(custody, "--digest", "sha256:"+sha)
		cosign = append(cosign, "--digest", sha, "--digestAlg", "sha256")
	}
	custody = append(custody, bundle)
	cosign = append(cosign, "--bundle", bundle)
	return []command{setup,
		{"custody", shellLine(custody...)},
		{"cosign (v2.6.5)", shellLine(cosign...)},
	}
}

// shellSafe are the characters an argument may hold unquoted.
func shellSafe(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_@%+=:,./-", c)) {
			return false
		}
	}
	return true
}

// shellLine quotes each argument for a POSIX shell where it needs it: a value from a bundle (an
// identity, a name) is one argument whatever it holds.
func shellLine(args ...string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if shellSafe(a) {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// bundle downloads an attestation's bundle, byte for byte as it was pushed.
func (h *Handler) bundle(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	digest := r.PathValue("digest")
	_, b, err := h.app.GetAttestation(r.Context(), s.Principal, digest)
	if err != nil {
		return err
	}
	download(w, attestation.BundleMediaType, bundleName(digest), int64(len(b)))
	_, _ = w.Write(b)
	return nil
}

// blob downloads a stored artifact, if the token may read it (app.OpenBlob decides).
func (h *Handler) blob(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	digest := r.PathValue("digest")
	rc, size, err := h.app.OpenBlob(r.Context(), s.Principal, digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	name := r.URL.Query().Get("name")
	if name == "" || strings.ContainsAny(name, "/\\") {
		name = strings.ReplaceAll(digest, ":", "-")
	}
	download(w, "application/octet-stream", name, size)
	w.Header().Set(wire.DigestHeader, digest)
	_, _ = io.Copy(w, rc) // headers are sent: a failure mid-stream shows as a short body
	return nil
}

// download sets the headers of a file to save, never to render.
func download(w http.ResponseWriter, mediaType, name string, size int64) {
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if disposition == "" { // a name no header can carry
		disposition = "attachment"
	}
	w.Header().Set("Content-Disposition", disposition)
}
