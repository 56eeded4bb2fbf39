package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/internal/cosigntest"
	"github.com/custody-dev/custody/internal/testtool"
	"github.com/custody-dev/custody/wire"
)

// browserContract is the walkthrough's contract, without the image: the rootfs (the subject), its
// build ref, and an optional Dockerfile left unset.
const browserContract = `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
  description: Build and test the skynet control plane
spec:
  materials:
    - name: rootfs
      type: ARTIFACT
      output: true
    - name: build-ref
      type: STRING
    - name: dockerfile
      type: ARTIFACT
      optional: true
`

// TestBrowser drives the UI in headless Chromium as a person would: custodyd runs (its real wiring,
// run()), a GitHub-shaped job pushes a keyless attestation through the custody CLI; the person signs
// in with a token, finds the run from the projects, reads the materials table and the signer as text,
// downloads the bundle (the bytes the CLI pushed) and verifies it with the commands the page shows,
// finds the run by the rootfs digest, reads the contract and a diff of its revisions, and signs out,
// after which the session no longer opens anything. A workflow token of another project sees nothing
// of it. No page raises a dialog or breaks the Content Security Policy. With CUSTODY_UI_SCREENSHOTS
// set to a directory (docs/ui), the main pages are saved there as PNG files.
func TestBrowser(t *testing.T) {
	chromium := testtool.Path(t, "chromium", "CUSTODY_CHROMIUM", "apt-get install -y chromium")
	d := startInProcess(t)
	p := bootstrap(t, d.url(), d.token, browserContract)
	ctx := context.Background()
	admin := p.apiClient(t, d.url())
	if _, err := admin.UpdateContract(ctx, p.name, p.workflow, strings.Replace(browserContract,
		"    - name: dockerfile\n      type: ARTIFACT\n      optional: true\n",
		"    - name: dockerfile\n      type: ARTIFACT\n      optional: true\n    - name: junit\n      type: JUNIT_XML\n      optional: true\n", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateProject(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateWorkflow(ctx, "other", wire.CreateWorkflow{Name: "deploy"}); err != nil {
		t.Fatal(err)
	}
	stranger, err := admin.CreateToken(ctx, wire.CreateToken{Name: "deploy pipeline", Project: "other", Workflow: "deploy"})
	if err != nil {
		t.Fatal(err)
	}

	job := p.pipeline(t, d.url(), "GITHUB_ACTIONS=true", "GITHUB_SERVER_URL=https://github.com", "GITHUB_REPOSITORY=acme/skynet",
		"GITHUB_REPOSITORY_OWNER=acme", "GITHUB_RUN_ID=4242", "GITHUB_RUN_ATTEMPT=1", "GITHUB_SHA=80e461e9b385c6986cdb8096c9dc99928943d667",
		"GITHUB_WORKFLOW=build", "GITHUB_EVENT_NAME=push", "GITHUB_ACTOR=octocat", "GITHUB_REF=refs/heads/main")
	gitCommit(t, job.dir)
	if err := os.WriteFile(job.path("rootfs.tar.gz"), []byte("the skynet root filesystem"), 0o644); err != nil {
		t.Fatal(err)
	}
	job.ok("attestation", "init", "--workflow", p.workflow, "--project", p.name, "--revision", "1")
	job.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	job.ok("attestation", "add", "--name", "build-ref", "--value", "80e461e9b385")
	var pushed struct{ RunID, Digest, Identity, Issuer string }
	job.json(&pushed, "attestation", "push", "--bundle", "attestation.sigstore.json")
	if pushed.Identity != attestation.WorkflowIdentityURI(d.url(), p.name, p.workflow) {
		t.Fatalf("the push was not keyless for the workflow: %+v", pushed)
	}
	rootfs := digestOfFile(t, job.path("rootfs.tar.gz"))

	b := newChromium(t, chromium)
	shots := screenshots(t)
	runURL := d.url() + "/ui/runs/" + pushed.RunID

	// Signed out, the run's page leads to the sign-in form, and back to the run after it.
	b.do(chromedp.Navigate(runURL), chromedp.WaitVisible(chromedp.ID("token")))
	shots.take(b, "signin")
	b.do(chromedp.SendKeys(chromedp.ID("token"), d.token), chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("materials-table")))
	if loc := b.location(); loc != runURL {
		t.Errorf("after signing in: %s, want the run %s", loc, runURL)
	}

	// The way a person finds it: projects, the workflow, its runs.
	b.do(chromedp.Navigate(d.url() + "/"))
	b.do(chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/projects/skynet"]`)))
	shots.take(b, "projects")
	b.do(chromedp.Click(chromedp.CSS(`a[href="/ui/projects/skynet"]`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/projects/skynet/workflows/build-and-test"]`)))
	b.do(chromedp.Click(chromedp.CSS(`a[href="/ui/projects/skynet/workflows/build-and-test"]`)), chromedp.WaitVisible(chromedp.ID("runs")))
	shots.take(b, "runs")
	b.do(chromedp.Click(chromedp.CSS(`a[href="/ui/runs/`+pushed.RunID+`"]`)), chromedp.WaitVisible(chromedp.ID("materials-table")))
	shots.take(b, "run")

	materials := b.text("#materials-table")
	for _, want := range []string{
		"rootfs\tARTIFACT\tYes\tYes\tx\trootfs.tar.gz\n" + rootfs,
		"build-ref\tSTRING\tYes\tYes\t\t80e461e9b385",
		"dockerfile\tARTIFACT\tNo\tNo",
	} {
		if !strings.Contains(materials, want) {
			t.Errorf("the materials table does not show %q:\n%s", want, materials)
		}
	}
	if strings.Contains(materials, "junit") {
		t.Errorf("the run's table shows a material of another contract revision:\n%s", materials)
	}
	if san, issuer := b.text("#signer-san"), b.text("#signer-issuer"); san != pushed.Identity || issuer != d.url() {
		t.Errorf("signer %q issued by %q, want %q by %q", san, issuer, pushed.Identity, d.url())
	}
	if v := b.text("#verdict"); !strings.HasPrefix(v, "Verified") {
		t.Errorf("verdict: %q", v)
	}
	if href := b.attr("#runner-url", "href"); href != "https://github.com/acme/skynet/actions/runs/4242/attempts/1" {
		t.Errorf("the link to the CI job: %q", href)
	}
	if git := b.text("#git"); !strings.Contains(git, "a commit of the browser test") {
		t.Errorf("git head: %q", git)
	}

	// The bundle downloads byte for byte as pushed, and the page's commands verify it offline.
	dl := t.TempDir()
	bundle := b.download(dl, "#download-bundle")
	if want := readFile(t, job.path("attestation.sigstore.json")); string(bundle) != string(want) {
		t.Fatalf("the downloaded bundle (%d bytes) is not the pushed one (%d bytes)", len(bundle), len(want))
	}
	name := "custody-" + strings.TrimPrefix(pushed.Digest, "sha256:")[:12] + ".sigstore.json"
	if err := os.WriteFile(filepath.Join(dl, name), bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	commands := b.texts("pre.command")
	if len(commands) != 3 {
		t.Fatalf("%d verify commands, want the trusted root, custody and cosign: %q", len(commands), commands)
	}
	runShell(t, dl, strings.Replace(commands[0], "custody ", bins.custody+" ", 1))
	if out := runShell(t, dl, strings.Replace(commands[1], "custody ", bins.custody+" ", 1)); !strings.HasPrefix(out, "OK   "+name+": Verified OK") {
		t.Errorf("the page's custody command: %s", out)
	}
	if out := runShell(t, dl, strings.Replace(commands[2], "cosign ", cosigntest.Path(t)+" ", 1)); !strings.Contains(out, "Verified OK") {
		t.Errorf("the page's cosign command: %s", out)
	}

	// A stored artifact downloads too.
	if got := b.download(dl, "#materials-table a.download"); string(got) != "the skynet root filesystem" {
		t.Errorf("the downloaded rootfs: %q", got)
	}

	// Which attestations mention this artifact?
	b.do(chromedp.Navigate(d.url()+"/ui/search"), chromedp.SendKeys(chromedp.ID("digest"), rootfs), chromedp.Click(chromedp.ID("search")),
		chromedp.WaitVisible(chromedp.ID("results")))
	shots.take(b, "search")
	if found := b.text("#results"); !strings.Contains(found, pushed.RunID) || !strings.Contains(found, "skynet/build-and-test") {
		t.Errorf("search by the rootfs digest: %q", found)
	}

	// The contract, and what changed between its revisions.
	b.do(chromedp.Navigate(d.url()+"/ui/projects/skynet/workflows/build-and-test/contract"), chromedp.WaitVisible(chromedp.ID("contract-yaml")))
	shots.take(b, "contract")
	b.do(chromedp.SetValue(chromedp.ID("from"), "1"), chromedp.SetValue(chromedp.ID("to"), "2"), chromedp.Click(chromedp.ID("compare")),
		chromedp.WaitVisible(chromedp.ID("diff")))
	shots.take(b, "diff")
	if added := b.texts("#diff tr.op-add"); len(added) != 3 || !strings.Contains(added[0], "- name: junit") {
		t.Errorf("the diff of revisions 1 and 2 adds %q", added)
	}
	b.do(chromedp.Navigate(d.url()+"/ui/admin/tokens"), chromedp.WaitVisible(chromedp.ID("tokens")))
	shots.take(b, "tokens")

	// Signing out ends the session on the server: the cookie it had opens nothing any more.
	cookie := b.cookie("custody_session")
	b.do(chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("token")))
	if b.cookie("custody_session") != "" {
		t.Errorf("the session cookie is still set after signing out")
	}
	b.setCookie(d.url(), "custody_session", cookie)
	b.do(chromedp.Navigate(runURL), chromedp.WaitVisible(chromedp.ID("token")))

	// Another project's workflow token sees nothing of skynet.
	b.do(chromedp.SendKeys(chromedp.ID("token"), stranger.Secret), chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("problem")))
	if got := b.text("#problem"); got != "run "+pushed.RunID+" not found" {
		t.Errorf("another project's token on the run: %q", got)
	}
	b.do(chromedp.Navigate(d.url() + "/ui/"))
	b.do(chromedp.WaitVisible(chromedp.ID("who")))
	if home := b.text("main"); strings.Contains(home, "skynet") || !strings.Contains(home, "other/deploy") {
		t.Errorf("another project's token's home page: %q", home)
	}
	b.do(chromedp.Navigate(d.url()+"/ui/search?digest="+rootfs), chromedp.WaitVisible(chromedp.ID("results")))
	if found := b.text("#results"); strings.Contains(found, pushed.RunID) {
		t.Errorf("another project's token finds the run by digest: %q", found)
	}
	b.do(chromedp.Navigate(d.url()+"/ui/attestations/"+pushed.Digest+"/bundle"), chromedp.WaitVisible(chromedp.ID("problem")))

	if strings.Contains(d.log.String(), d.token) || strings.Contains(d.log.String(), stranger.Secret) {
		t.Errorf("custodyd's log holds a token")
	}
	b.checkClean()
}

// chromium is a headless Chromium tab driven by chromedp. Every JavaScript dialog, exception and
// console message about the Content Security Policy (a page of the UI runs no script and loads
// nothing the policy refuses) is kept, and fails the test.
type chromium struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newChromium(t *testing.T, path string) *chromium {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*waitLimit)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	c := &chromium{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	console := chromedp.Console(ctx)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			c.problem("a dialog opened: " + ev.Message)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
		}
	}()
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || strings.Contains(m.Text, "Content Security Policy") {
				c.problem(fmt.Sprintf("the console (%s): %s", m.Type, m.Text))
			}
		}
	}()
	return c
}

func (c *chromium) problem(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, s)
}

// checkClean fails the test for every dialog, exception or policy violation seen.
func (c *chromium) checkClean() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.problems {
		c.t.Errorf("chromium: %s", p)
	}
}

func (c *chromium) do(actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		c.t.Fatalf("chromium: %v (at %s)", err, c.location())
	}
}

func (c *chromium) location() string {
	loc, _ := chromedp.Run(c.ctx, chromedp.Location())
	return loc
}

// eval evaluates a JavaScript expression in the page (through the DevTools protocol, which the
// page's Content Security Policy does not govern).
func eval[T any](c *chromium, expr string) T {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		c.t.Fatalf("chromium: %s: %v (at %s)", expr, err, c.location())
	}
	return v
}

// text is what a person reads of the element sel (a CSS selector): its innerText, trimmed.
func (c *chromium) text(sel string) string {
	c.t.Helper()
	return strings.TrimSpace(eval[string](c, fmt.Sprintf(`document.querySelector(%q).innerText`, sel)))
}

// texts is the innerText of every element sel matches.
func (c *chromium) texts(sel string) []string {
	c.t.Helper()
	return eval[[]string](c, fmt.Sprintf(`Array.from(document.querySelectorAll(%q), e => e.innerText)`, sel))
}

// attr is an attribute of the element sel.
func (c *chromium) attr(sel, name string) string {
	c.t.Helper()
	return eval[string](c, fmt.Sprintf(`document.querySelector(%q).getAttribute(%q)`, sel, name))
}

// download clicks the link sel and returns the bytes the browser saved.
func (c *chromium) download(dir, sel string) []byte {
	c.t.Helper()
	progress := chromedp.Events(c.ctx, browser.DownloadProgress)
	events := true
	if _, err := chromedp.Call(c.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events}); err != nil {
		c.t.Fatal(err)
	}
	c.do(chromedp.Click(chromedp.CSS(sel)))
	for ev, err := range progress {
		switch {
		case err != nil:
			c.t.Fatalf("chromium: download of %s: %v", sel, err)
		case ev.State == browser.DownloadProgressStateCanceled:
			c.t.Fatalf("chromium: download of %s cancelled", sel)
		case ev.State == browser.DownloadProgressStateCompleted:
			return readFile(c.t, filepath.Join(dir, ev.GUID))
		}
	}
	c.t.Fatalf("chromium: download of %s: no end", sel)
	return nil
}

// cookie returns the value of the browser's cookie name for the page ("" when there is none).
func (c *chromium) cookie(name string) string {
	c.t.Helper()
	res, err := chromedp.Call(c.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range res.Cookies {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// setCookie puts a cookie back, as someone who kept its value would.
func (c *chromium) setCookie(url, name, value string) {
	c.t.Helper()
	if _, err := chromedp.Call(c.ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: url + "/", Path: "/"}); err != nil {
		c.t.Fatal(err)
	}
}

// shots saves screenshots of pages into a directory, when CUSTODY_UI_SCREENSHOTS names one (a
// relative path is taken from the module's root: docs/ui).
type shots struct{ dir string }

func screenshots(t *testing.T) shots {
	dir := os.Getenv("CUSTODY_UI_SCREENSHOTS")
	if dir == "" {
		return shots{}
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // cmd/custodyd is two levels below the root
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return shots{dir: dir}
}

func (s shots) take(c *chromium, name string) {
	c.t.Helper()
	if s.dir == "" {
		return
	}
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name+".png"), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// gitCommit makes dir a git repository with one commit, as a CI checkout is.
func gitCommit(t *testing.T, dir string) {
	t.Helper()
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"-c", "user.name=Octo Cat", "-c", "user.email=octocat@example.com", "commit", "-q", "--allow-empty", "-m", "a commit of the browser test"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// runShell runs a command line in dir with sh, as a person pastes it, and returns its output.
func runShell(t *testing.T, dir, line string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir, cmd.Env = dir, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return string(out)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func digestOfFile(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256(readFile(t, path))
	return "sha256:" + hex.EncodeToString(sum[:])
}
