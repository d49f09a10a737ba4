package tools

import (
	"fmt"
	"strings"
	"time"
)

// Every answer is bounded, whatever the account's size: a model's context
// is the scarce resource. Lists stop adding records when the next would not
// fit and say where to continue. 32,000 characters (about 8,000 tokens)
// holds the largest page a tool offers, 200 one-line customers; the
// defaults answer in a fraction of it.
const (
	maxLines = 210
	maxChars = 32000
)

// answer builds a tool's text within the caps.
type answer struct {
	head  string // a list's first line, known once its rows are in; short, so outside the caps
	b     strings.Builder
	lines int
	cut   int // lines that did not fit
}

// add writes a line if it fits, and reports whether it did.
func (a *answer) add(line string) bool {
	if a.lines >= maxLines || a.b.Len()+len(line)+1 > maxChars {
		a.cut++
		return false
	}
	a.b.WriteString(line)
	a.b.WriteByte('\n')
	a.lines++
	return true
}

func (a *answer) addf(format string, args ...any) bool { return a.add(fmt.Sprintf(format, args...)) }

// rows adds row(0) … row(n-1) until one does not fit, counts the rest as
// cut, and returns how many went in: a list's header and its next-page
// hint are written from that.
func (a *answer) rows(n int, row func(i int) string) int {
	for i := range n {
		if !a.add(row(i)) {
			a.cut += n - i - 1
			return i
		}
	}
	return n
}

// String is the text, with a note when lines were cut. tail lines (the
// next-page hint) are always written.
func (a *answer) String(tail ...string) string {
	out := a.b.String()
	if a.head != "" {
		out = a.head + "\n" + out
	}
	if a.cut > 0 {
		out += fmt.Sprintf("[%d more line(s) cut to keep this answer short]\n", a.cut)
	}
	for _, t := range tail {
		out += t + "\n"
	}
	return strings.TrimRight(out, "\n")
}

// parts joins the non-empty parts with sep.
func parts(sep string, ps ...string) string {
	out := ps[:0:0]
	for _, p := range ps {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// val is the text of an optional field, "" for null.
func val(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

func minute(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func money(f float64) string { return fmt.Sprintf("$%.2f", f) }

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// changeLine is one line of a preview's diff, "  field: old → new".
func changeLine(field string, from, to any) string {
	return fmt.Sprintf("  %s: %s → %s", field, quote(from), quote(to))
}

// quote renders a value for a diff: quoted text, or (none) for null.
func quote(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case *string:
		if x == nil {
			return "(none)"
		}
		return fmt.Sprintf("%q", *x)
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// wrap puts s in parentheses, unless it is empty.
func wrap(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// prefixed puts prefix before s, unless s is empty.
func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// firstOf is the first optional text that is set.
func firstOf(ss ...*string) string {
	for _, s := range ss {
		if v := val(s); v != "" {
			return v
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
