package cli

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/ghactions"
	"github.com/custody-dev/custody/wire"
)

// In a GitHub Actions step (GITHUB_ACTIONS=true), as the Action or as a plain `run: custody ...`, custody
// also talks to the runner: an error becomes an error annotation, every credential is masked before it
// is used, the run's results become step outputs, and push, attest and status write a step summary.
// Workflow commands go to stderr: stdout stays the command's output (a table, JSON, a bundle), and the
// runner reads commands from both.

// Step outputs, as action.yml declares them.
const (
	outputAttestationID = "attestation-id"
	outputDigest        = "digest"
	outputBundlePath    = "bundle-path"
	outputRunURL        = "run-url"
)

// actions returns the Actions runner of the step, or nil outside GitHub Actions.
func (g *globals) actions() *ghactions.Actions {
	if !ghactions.Running(g.env.Getenv) {
		return nil
	}
	return ghactions.New(g.env.Getenv, g.env.Stderr)
}

// mask tells the Actions runner to hide secret in the log, before anything could print it.
func (g *globals) mask(secret string) error {
	a := g.actions()
	if a == nil {
		return nil
	}
	if err := a.AddMask(secret); err != nil {
		return fmt.Errorf("mask the credential in the log: %w", err)
	}
	return nil
}

// actionReport is what a command tells the runner.
type actionReport struct {
	status *crafting.Status
	push   *crafting.PushResult
	// summary asks for the step summary.
	summary bool
	// exportRunID sets CUSTODY_ATTESTATION_ID for the job's next steps (GITHUB_ENV): a run whose state
	// the control plane keeps.
	exportRunID bool
}

// reportToActions writes the step outputs (and the summary) of a command that succeeded.
func (g *globals) reportToActions(r actionReport) error {
	a := g.actions()
	if a == nil {
		return nil
	}
	var outputs [][2]string
	if r.status != nil && r.status.State != nil {
		outputs = append(outputs, [2]string{outputAttestationID, r.status.State.RunID})
	}
	if p := r.push; p != nil {
		outputs = append(outputs, [2]string{outputDigest, p.Digest}, [2]string{outputBundlePath, p.Bundle}, [2]string{outputRunURL, p.RunURL})
	}
	for _, o := range outputs {
		if o[1] == "" {
			continue
		}
		if err := a.SetOutput(o[0], o[1]); errors.Is(err, ghactions.ErrNotSet) {
			// GITHUB_ACTIONS passed on to a container without the runner's files: nothing to tell.
			g.warn("no step outputs written: %v", err)
			break
		} else if err != nil {
			return fmt.Errorf("%s: step output %s: %w", done(r), o[0], err)
		}
	}
	if r.exportRunID && r.status != nil && r.status.State.RunID != "" {
		// The run, and its workflow: a later step exchanges its OIDC token for that workflow.
		for _, kv := range [][2]string{{"CUSTODY_ATTESTATION_ID", r.status.State.RunID},
			{"CUSTODY_WORKFLOW", r.status.State.Workflow}, {"CUSTODY_PROJECT", r.status.State.Project}} {
			if err := a.ExportVariable(kv[0], kv[1]); errors.Is(err, ghactions.ErrNotSet) {
				g.warn("%s not exported to the next steps: %v", kv[0], err)
				break
			} else if err != nil {
				return fmt.Errorf("%s: %w", done(r), err)
			}
		}
	}
	if !r.summary || r.status == nil {
		return nil
	}
	url, _, err := g.connection()
	if err != nil {
		return err
	}
	if err := a.AddSummary(stepSummary(r.status, r.push, url)); errors.Is(err, ghactions.ErrNotSet) {
		g.warn("no step summary written: %v", err)
	} else if err != nil {
		return fmt.Errorf("%s: %w", done(r), err)
	}
	return nil
}

// done says what happened before reporting it failed, so a failed step does not read as a failed push.
func done(r actionReport) string {
	if r.push != nil {
		return "the attestation " + r.push.Digest + " was pushed, but the GitHub Actions runner was not told"
	}
	return "the command succeeded, but the GitHub Actions runner was not told"
}

// annotateError writes the error of the command cmd as an error annotation, titled with the command
// that failed. Tokens in it are redacted, as on the ERR line.
func annotateError(env Env, cmd *cobra.Command, err error) {
	if !ghactions.Running(env.Getenv) {
		return
	}
	title := "custody failed"
	var s *stepError
	switch {
	case errors.As(err, &s):
		title = s.command + " failed"
	case cmd != nil:
		title = cmd.CommandPath() + " failed"
	}
	// Best effort: the ERR line main prints still says it.
	_ = ghactions.New(env.Getenv, env.Stderr).Error(title, wire.RedactTokens(err.Error()))
}

// stepSummary renders a run as Markdown: a heading, the run, the seed's materials table, and for a
// push the command that verifies the bundle.
func stepSummary(s *crafting.Status, p *crafting.PushResult, controlPlane string) string {
	var b strings.Builder
	st := s.State
	switch {
	case p != nil:
		fmt.Fprintf(&b, "### custody: attestation %s pushed\n\n", md(p.Digest))
	default:
		fmt.Fprintf(&b, "### custody: attestation in progress\n\n")
	}
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, v)
		}
	}
	row("Run", md(st.RunID))
	row("Workflow", md(st.Workflow))
	row("Project", md(st.Project))
	row("Contract", md(st.Contract.Metadata.Name))
	row("Contract Revision", md(revision(st.ContractRevision)))
	if st.Runner != nil {
		row("Runner", md(string(st.Runner.Type)))
	}
	if st.DryRun {
		row("Dry Run", "Yes")
	}
	if p != nil {
		row("Signed By", md(p.Identity))
		if url := cmp.Or(p.PageURL, p.RunURL); url != "" { // the page for people, else the API's
			row("Run URL", fmt.Sprintf("<%s>", mdURL(url)))
		}
	}
	b.WriteString("\n#### Materials\n\n| Name | Type | Set | Required | Is Output | Value |\n|---|---|---|---|---|---|\n")
	for _, m := range s.Materials {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", md(m.Name), md(string(m.Kind)), yesNo(m.Set), yesNo(m.Required),
			mark(m.Output), md(materialValue(m)))
	}
	if p != nil && p.Bundle != "" {
		b.WriteString("\n#### Verify\n\n")
		b.WriteString(fenced("sh", verifyCommand(s, p, controlPlane)))
	}
	return b.String()
}

// verifyCommand is the command that verifies the pushed bundle: against the control plane's trusted
// root and the certificate's identity (keyless), or a key.
func verifyCommand(s *crafting.Status, p *crafting.PushResult, controlPlane string) string {
	var lines []string
	args := []string{"custody", "attestation", "verify"}
	if p.Keyless {
		lines = append(lines, shellLine("custody", "trusted-root", "--control-plane", controlPlane)+" > trusted_root.json")
		args = append(args, "--trusted-root", "trusted_root.json")
	} else {
		args = append(args, "--key", "cosign.pub")
	}
	args = append(args, "--workflow", s.State.Workflow, "--project", s.State.Project)
	if p.Keyless {
		args = append(args, "--certificate-identity", p.Identity, "--certificate-oidc-issuer", p.Issuer)
	}
	for _, m := range s.Materials {
		if m.Output && m.Material != nil && m.Material.Digest != "" {
			args = append(args, "--digest", m.Material.Digest) // the first subject: exact, wherever the file is
			break
		}
	}
	args = append(args, p.Bundle)
	return strings.Join(append(lines, shellLine(args...)), "\n") + "\n"
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellLine quotes each argument for a POSIX shell where it needs it.
func shellLine(args ...string) string {
	out := make([]string, len(args))
	for i, a := range args {
		a = Escape(a)
		if shellSafe.MatchString(a) {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// fenced puts text in a Markdown code block whose fence is longer than any run of backticks in it.
func fenced(lang, text string) string {
	longest, run := 0, 0
	for _, r := range text {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + lang + "\n" + text + fence + "\n"
}

// md makes text custody did not write literal Markdown (and fit for a table cell): control characters
// are escaped as for a terminal, and every ASCII punctuation character is backslash-escaped, which
// CommonMark reads as the character itself (no emphasis, link, HTML or cell boundary).
func md(s string) string {
	s = Escape(s)
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && isASCIIPunct(byte(r)) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdURL is a URL for an autolink (<...>): only characters an autolink may hold, else percent-encoded.
func mdURL(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '|' || c == '\\' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}
