package crafting

import (
	"net/url"
	"os/exec"
	"strings"
	"testing"
)

func TestStripCredentials(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"https://x-access-token:ghs_secret@github.com/acme/app.git": "https://github.com/acme/app.git",
		"https://gitlab-ci-token:glcbt-secret@gitlab.com/acme/app":  "https://gitlab.com/acme/app",
		"https://github.com/acme/app.git":                           "https://github.com/acme/app.git",
		"git@github.com:acme/app.git":                               "github.com:acme/app.git",
		"ssh://git:pw@host:22/acme/app":                             "ssh://host:22/acme/app",
		"/srv/git/app":                                              "/srv/git/app",
	}
	for in, want := range tests {
		if got := StripCredentials(in); got != want {
			t.Errorf("StripCredentials(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzStripCredentials(f *testing.F) {
	f.Add("https://user:pass@host/path")
	f.Add("git@host:path")
	f.Add("ssh://git:pw@host:22/x")
	f.Fuzz(func(t *testing.T, raw string) {
		got := StripCredentials(raw)
		if u, err := url.Parse(got); err == nil && u.Scheme != "" && u.Host != "" && u.User != nil {
			t.Errorf("StripCredentials(%q) = %q still holds user info", raw, got)
		}
	})
}

// runGit runs the real git in dir.
func runGit(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_DATE=2022-11-02T10:00:00Z", "GIT_COMMITTER_DATE=2022-11-02T10:00:00Z")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestGitHeadRecorded(t *testing.T) {
	t.Parallel()
	c, dir := newTestCrafter(t)
	runGit(t, dir, "init", "-q", "-b", "main")
	runGit(t, dir, "-c", "user.name=Sarah Connor", "-c", "user.email=sarah@example.com", "commit", "-q", "--allow-empty", "-m", "judgment day")
	runGit(t, dir, "remote", "add", "origin", "https://x-access-token:ghs_secret@github.com/cyberdyne/skynet.git")
	st := initRun(t, c)
	g := st.Git
	if g == nil {
		t.Fatal("no git head recorded")
	}
	if len(g.Commit) != 40 || g.AuthorName != "Sarah Connor" || g.AuthorEmail != "sarah@example.com" ||
		strings.TrimSpace(g.Message) != "judgment day" || g.Date.Format("2006-01-02") != "2022-11-02" {
		t.Errorf("git head = %+v", g)
	}
	if len(g.Remotes) != 1 || g.Remotes[0].URL != "https://github.com/cyberdyne/skynet.git" {
		t.Errorf("remotes = %+v, want the origin without credentials", g.Remotes)
	}
}

func TestNoGitRepositoryIsFine(t *testing.T) {
	t.Parallel()
	c, _ := newTestCrafter(t)
	if st := initRun(t, c); st.Git != nil {
		t.Errorf("git head outside a repository = %+v", st.Git)
	}
}
