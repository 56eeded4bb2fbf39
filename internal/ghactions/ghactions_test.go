package ghactions

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runner is what a step sees: the environment files and its standard output.
type runner struct {
	env map[string]string
	out bytes.Buffer
}

func newRunner(t *testing.T) *runner {
	t.Helper()
	dir := t.TempDir()
	r := &runner{env: map[string]string{"GITHUB_ACTIONS": "true"}}
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"} {
		path := filepath.Join(dir, strings.ToLower(name))
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		r.env[name] = path
	}
	return r
}

func (r *runner) getenv(name string) string { return r.env[name] }

func (r *runner) actions() *Actions { return New(r.getenv, &r.out) }

func (r *runner) read(t *testing.T, env string) string {
	t.Helper()
	b, err := os.ReadFile(r.env[env])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hostileValues are values a runner must get back unchanged.
var hostileValues = []struct{ name, value string }{
	{"empty", ""},
	{"plain", "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"},
	{"newlines", "line one\nline two\n\nline four\n"},
	{"leading newline", "\nafter"},
	{"a toolkit delimiter", "a\nghadelimiter_00000000-0000-0000-0000-000000000000\nb"},
	{"an entry of its own", "x\nevil<<EOF\ninjected\nEOF\nname=injected"},
	{"equals and heredoc marks", "a=b<<c"},
	{"workflow commands", "::add-mask::x\n::error::y"},
	{"unicode", "caf\u00e9 \u202e \u0000 \xff"},
}

func TestSetOutputRoundTrips(t *testing.T) {
	for _, tc := range hostileValues {
		t.Run(tc.name, func(t *testing.T) {
			r := newRunner(t)
			a := r.actions()
			if err := a.SetOutput("digest", tc.value); err != nil {
				t.Fatal(err)
			}
			if err := a.SetOutput("bundle-path", "after"); err != nil {
				t.Fatal(err)
			}
			got, err := ParseEnvFile(r.read(t, "GITHUB_OUTPUT"))
			if err != nil {
				t.Fatalf("the runner would refuse the file: %v\n%q", err, r.read(t, "GITHUB_OUTPUT"))
			}
			want := map[string]string{"digest": tc.value, "bundle-path": "after"}
			if len(got) != len(want) || got["digest"] != want["digest"] || got["bundle-path"] != want["bundle-path"] {
				t.Fatalf("the runner reads %q, want %q", got, want)
			}
			if r.out.Len() != 0 {
				t.Errorf("an output wrote to stdout: %q", r.out.String())
			}
		})
	}
}

func TestExportVariableRoundTrips(t *testing.T) {
	r := newRunner(t)
	a := r.actions()
	for _, tc := range hostileValues {
		if err := a.ExportVariable("V_"+strings.ReplaceAll(tc.name, " ", "_"), tc.value); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	got, err := ParseEnvFile(r.read(t, "GITHUB_ENV"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range hostileValues {
		if v := got["V_"+strings.ReplaceAll(tc.name, " ", "_")]; v != tc.value {
			t.Errorf("%s: the runner reads %q, want %q", tc.name, v, tc.value)
		}
	}
	if len(got) != len(hostileValues) {
		t.Errorf("the runner reads %d variables, want %d: %q", len(got), len(hostileValues), got)
	}
}

// zeros is a random source that is all zeros: the delimiter is known in advance.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestKeyValueRefusals(t *testing.T) {
	known := "ghadelimiter_" + strings.Repeat("0", 32)
	for _, tc := range []struct {
		name, key, value, want string
	}{
		{"empty name", "", "v", "empty name"},
		{"equals in the name", "a=b", "v", `character '=' at 1`},
		{"heredoc in the name", "a<<b", "v", `character '<' at 1`},
		{"newline in the name", "a\nb", "v", `character '\n' at 1`},
		{"space in the name", "a b", "v", `character ' ' at 1`},
		{"digit first", "1a", "v", `character '1' at 0`},
		{"name too long", strings.Repeat("a", MaxNameSize+1), "v", "longer than 256 bytes"},
		{"value too long", "a", strings.Repeat("x", MaxValueSize+1), "more than the runner takes"},
		{"carriage return", "a", "x\r\ny", "carriage return"},
		{"the delimiter in the value", "a", "x\n" + known + "\ny", "holds the delimiter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRunner(t)
			a := r.actions().WithRandom(zeros{})
			for _, set := range []func(string, string) error{a.SetOutput, a.ExportVariable} {
				err := set(tc.key, tc.value)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want one saying %q", err, tc.want)
				}
			}
			if out, env := r.read(t, "GITHUB_OUTPUT"), r.read(t, "GITHUB_ENV"); out != "" || env != "" {
				t.Errorf("a refused value was written: GITHUB_OUTPUT %q, GITHUB_ENV %q", out, env)
			}
		})
	}
}

func TestDelimiterIsRandom(t *testing.T) {
	r := newRunner(t)
	a := r.actions()
	for range 2 {
		if err := a.SetOutput("a", "v"); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(r.read(t, "GITHUB_OUTPUT"), "\n")
	if len(lines) < 5 || !strings.HasPrefix(lines[0], "a<<ghadelimiter_") || lines[0] == lines[3] {
		t.Fatalf("want two entries with different random delimiters:\n%s", strings.Join(lines, "\n"))
	}
}

func TestNoFileOutsideARunner(t *testing.T) {
	var out bytes.Buffer
	a := New(func(string) string { return "" }, &out)
	for name, err := range map[string]error{
		"GITHUB_OUTPUT":       a.SetOutput("a", "b"),
		"GITHUB_ENV":          a.ExportVariable("a", "b"),
		"GITHUB_STEP_SUMMARY": a.AddSummary("# x"),
	} {
		if !errors.Is(err, ErrNotSet) || !strings.HasPrefix(err.Error(), name+": not set") {
			t.Errorf("%s: error %v, want one naming it", name, err)
		}
	}
}

func TestSummaryAppends(t *testing.T) {
	r := newRunner(t)
	a := r.actions()
	for _, s := range []string{"# one\n", "| a | b |\n", "```\nx\n```\n"} {
		if err := a.AddSummary(s); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.read(t, "GITHUB_STEP_SUMMARY"); got != "# one\n| a | b |\n```\nx\n```\n" {
		t.Fatalf("summary %q", got)
	}
	err := a.AddSummary(strings.Repeat("x", MaxSummarySize-10))
	if err == nil || !strings.Contains(err.Error(), "larger than the runner shows") {
		t.Fatalf("a summary over 1 MiB in all: error %v, want it refused", err)
	}
	if err := a.AddSummary(strings.Repeat("x", MaxSummarySize+1)); err == nil {
		t.Fatal("a summary part over 1 MiB was accepted")
	}
	if got := r.read(t, "GITHUB_STEP_SUMMARY"); len(got) != 26 {
		t.Fatalf("a refused summary was written: %d bytes", len(got))
	}
}

func TestCommands(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(*Actions) error
		want string
	}{
		{"mask", func(a *Actions) error { return a.AddMask("cst_secret") }, "::add-mask::cst_secret\n"},
		{"mask with percent and newline", func(a *Actions) error { return a.AddMask("a%b\nc") },
			"::add-mask::a%25b%0Ac\n::add-mask::a%25b\n::add-mask::c\n"},
		{"empty mask", func(a *Actions) error { return a.AddMask(" \n") }, ""},
		{"error with a title", func(a *Actions) error { return a.Error("custody push failed", "no token") },
			"::error title=custody push failed::no token\n"},
		{"message escaped", func(a *Actions) error { return a.Error("t", "100% done\r\nnext::line\n::add-mask::x") },
			"::error title=t::100%25 done%0D%0Anext::line%0A::add-mask::x\n"},
		{"properties escaped", func(a *Actions) error {
			return a.Annotate(Annotation{Level: LevelWarning, Title: "a: b, c%\nd", File: "x,y.go", Line: 3, Col: 2, Message: "m"})
		}, "::warning col=2,file=x%2Cy.go,line=3,title=a%3A b%2C c%25%0Ad::m\n"},
		{"notice with every position", func(a *Actions) error {
			return a.Annotate(Annotation{Level: LevelNotice, File: "f", Line: 1, EndLine: 2, Col: 3, EndColumn: 4, Message: "m"})
		}, "::notice col=3,endColumn=4,endLine=2,file=f,line=1::m\n"},
		{"no properties", func(a *Actions) error { return a.Annotate(Annotation{Level: LevelError, Message: "m"}) }, "::error::m\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := New(func(string) string { return "" }, &out).do(tc.do); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Fatalf("wrote %q\nwant   %q", out.String(), tc.want)
			}
		})
	}
	if err := New(nil, &bytes.Buffer{}).Annotate(Annotation{Level: "debug", Message: "m"}); err == nil {
		t.Fatal("an annotation of level debug was written")
	}
}

func (a *Actions) do(f func(*Actions) error) error { return f(a) }

func TestRunning(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "": false, "false": false, "TRUE": false, "1": false} {
		if got := Running(func(string) string { return v }); got != want {
			t.Errorf("GITHUB_ACTIONS=%q: Running %v, want %v", v, got, want)
		}
	}
}

func FuzzCommand(f *testing.F) {
	f.Add("title", "message")
	f.Add("a:b,c", "%0A\n::x::y\r")
	f.Add("%25", "%%%")
	f.Fuzz(func(t *testing.T, title, message string) {
		var out bytes.Buffer
		if err := New(nil, &out).Error(title, message); err != nil {
			t.Fatal(err)
		}
		line := out.String()
		if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") || strings.Contains(line, "\r") {
			t.Fatalf("not one line: %q", line)
		}
		c, ok := ParseCommand(strings.TrimSuffix(line, "\n"))
		if !ok || c.Name != "error" {
			t.Fatalf("not an error command: %q", line)
		}
		if c.Message != message {
			t.Fatalf("the runner reads message %q, want %q", c.Message, message)
		}
		want := map[string]string{}
		if title != "" {
			want["title"] = title
		}
		if !maps.Equal(c.Properties, want) {
			t.Fatalf("the runner reads properties %q, want %q", c.Properties, want)
		}
	})
}

func FuzzSetOutput(f *testing.F) {
	for _, tc := range hostileValues {
		f.Add("name", tc.value)
	}
	f.Add("a=b", "v")
	f.Fuzz(func(t *testing.T, name, value string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out")
		a := New(func(string) string { return path }, &bytes.Buffer{})
		if err := a.SetOutput(name, value); err != nil {
			if _, statErr := os.Stat(path); statErr == nil {
				t.Fatalf("refused (%v) but wrote the file", err)
			}
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseEnvFile(string(b))
		if err != nil {
			t.Fatalf("the runner would refuse %q: %v", b, err)
		}
		if len(got) != 1 || got[name] != value {
			t.Fatalf("the runner reads %q, want {%q: %q}", got, name, value)
		}
	})
}
