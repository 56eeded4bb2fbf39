package ui

import "strings"

// A line diff of two texts (two contract revisions), by the longest common subsequence of their
// lines: the common prefix and suffix are set aside, and the rest is compared by dynamic
// programming within a bound of work, past which the middle is shown as removed and added whole.

// diffOp is what a line of a diff is: kept, removed from the old text, or added in the new one.
type diffOp byte

const (
	opKeep   diffOp = ' '
	opRemove diffOp = '-'
	opAdd    diffOp = '+'
)

// diffLine is one line of a diff, with its line numbers in the old and new text (0 where it is not
// in that text).
type diffLine struct {
	Op       diffOp
	Text     string
	Old, New int
}

// Class names the line's kind for the stylesheet.
func (l diffLine) Class() string {
	switch l.Op {
	case opRemove:
		return "op-remove"
	case opAdd:
		return "op-add"
	}
	return "op-keep"
}

// Sign is the line's mark: -, + or a space.
func (l diffLine) Sign() string { return string(rune(l.Op)) }

// maxDiffCells bounds the comparison's table (lines of the old middle × lines of the new middle):
// 4 MiB of uint16. Contracts are a few hundred lines; two of 2,000 changed lines each still diff.
const maxDiffCells = 4 << 20

// lines splits a text into lines, without their ends; a final line end adds no empty line.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// lineDiff compares old and new line by line. Whole reports whether the middle was too large to
// compare and is shown removed and added whole.
func lineDiff(oldText, newText string) (out []diffLine, whole bool) {
	a, b := lines(oldText), lines(newText)
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	for i := 0; i < pre; i++ {
		out = append(out, diffLine{opKeep, a[i], i + 1, i + 1})
	}
	am, bm := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(am) > 0 && len(bm) > 0 && len(am)*len(bm) > maxDiffCells || len(am) >= 1<<16 || len(bm) >= 1<<16 {
		whole = true
		for i, l := range am {
			out = append(out, diffLine{opRemove, l, pre + i + 1, 0})
		}
		for j, l := range bm {
			out = append(out, diffLine{opAdd, l, 0, pre + j + 1})
		}
	} else {
		out = append(out, middle(am, bm, pre)...)
	}
	for k := 0; k < suf; k++ {
		i, j := len(a)-suf+k, len(b)-suf+k
		out = append(out, diffLine{opKeep, a[i], i + 1, j + 1})
	}
	return out, whole
}

// middle diffs a and b (offset lines into their texts) by their longest common subsequence,
// removals before additions where both are possible.
func middle(a, b []string, offset int) []diffLine {
	n, m := len(a), len(b)
	// lcs[i*(m+1)+j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([]uint16, (n+1)*(m+1))
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case a[i] == b[j]:
				lcs[i*(m+1)+j] = lcs[(i+1)*(m+1)+j+1] + 1
			default:
				lcs[i*(m+1)+j] = max(lcs[(i+1)*(m+1)+j], lcs[i*(m+1)+j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out = append(out, diffLine{opKeep, a[i], offset + i + 1, offset + j + 1})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[(i+1)*(m+1)+j] >= lcs[i*(m+1)+j+1]):
			out = append(out, diffLine{opRemove, a[i], offset + i + 1, 0})
			i++
		default:
			out = append(out, diffLine{opAdd, b[j], 0, offset + j + 1})
			j++
		}
	}
	return out
}
