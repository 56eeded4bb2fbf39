package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"

	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/termsafe"
)

// timeLayout renders times as the seed does: 02 Nov 22 10:04 UTC.
const timeLayout = "02 Jan 06 15:04 MST"

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// newTable returns a table for human output whose every cell, header and title is escaped.
func newTable(w io.Writer) table.Writer {
	t := table.NewWriter()
	t.SetOutputMirror(w)
	t.SetStyle(table.StyleLight)
	return escapedTable{t}
}

// escapedTable escapes what goes into a table: names and values come from bundles, contracts and
// the control plane, and a terminal must not run the escape codes they may hold.
type escapedTable struct{ table.Writer }

func (t escapedTable) AppendHeader(row table.Row, configs ...table.RowConfig) {
	t.Writer.AppendHeader(escapeRow(row), configs...)
}

func (t escapedTable) AppendRow(row table.Row, configs ...table.RowConfig) {
	t.Writer.AppendRow(escapeRow(row), configs...)
}

func (t escapedTable) AppendRows(rows []table.Row, configs ...table.RowConfig) {
	for _, r := range rows {
		t.AppendRow(r, configs...)
	}
}

func (t escapedTable) SetTitle(format string, a ...any) {
	t.Writer.SetTitle("%s", Escape(fmt.Sprintf(format, a...)))
}

// escapeRow escapes every cell but numbers (which the table aligns as numbers).
func escapeRow(row table.Row) table.Row {
	out := make(table.Row, len(row))
	for i, cell := range row {
		switch cell.(type) {
		case nil, int, int64, uint64, bool:
			out[i] = cell
		default:
			out[i] = Escape(fmt.Sprint(cell))
		}
	}
	return out
}

// printLine writes one line of human output: the formatted text with every control character
// escaped, then a newline.
func printLine(w io.Writer, format string, args ...any) {
	fmt.Fprintln(w, Escape(fmt.Sprintf(format, args...)))
}

// Escape returns s fit for a terminal (internal/termsafe): every human rendering of text custody did
// not write itself goes through it; JSON output stays JSON.
func Escape(s string) string { return termsafe.Escape(s) }

// EscapeText is Escape keeping newlines and tabs, for messages of several lines.
func EscapeText(s string) string { return termsafe.EscapeText(s) }

// renderRun writes the seed's two tables: the run, then its materials (with values when full).
func renderRun(w io.Writer, s *crafting.Status, full bool) {
	st := s.State
	run := newTable(w)
	run.AppendRow(table.Row{"Initialized At", st.InitializedAt.UTC().Format(timeLayout)})
	run.AppendRow(table.Row{"Run", st.RunID})
	run.AppendRow(table.Row{"Workflow", st.Workflow})
	run.AppendRow(table.Row{"Project", st.Project})
	run.AppendRow(table.Row{"Contract", st.Contract.Metadata.Name})
	run.AppendRow(table.Row{"Contract Revision", revision(st.ContractRevision)})
	if st.Runner != nil {
		run.AppendRow(table.Row{"Runner", st.Runner.Type})
	}
	if st.DryRun {
		run.AppendRow(table.Row{"Dry Run", "Yes"})
	}
	run.SetStyle(table.StyleLight)
	run.Render()

	mt := newTable(w)
	mt.SetTitle("Materials")
	header := table.Row{"Name", "Type", "Set", "Required", "Is Output"}
	if full {
		header = append(header, "Value")
	}
	mt.AppendHeader(header)
	for _, m := range s.Materials {
		row := table.Row{m.Name, m.Kind, yesNo(m.Set), yesNo(m.Required), mark(m.Output)}
		if full {
			row = append(row, materialValue(m))
		}
		mt.AppendRow(row)
	}
	mt.Render()
}

func materialValue(m crafting.MaterialStatus) string {
	if m.Material == nil {
		return ""
	}
	if m.Material.File != nil {
		return m.Material.File.Name + "@" + m.Material.Digest
	}
	return m.Material.Value
}

func revision(r int) string {
	if r == 0 {
		return "local file"
	}
	return strconv.Itoa(r)
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

func mark(b bool) string {
	if b {
		return "x"
	}
	return ""
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }
