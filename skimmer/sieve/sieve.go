// Package sieve is the .NET Sieve library (github.com/Biarity/Sieve), which
// Skimmer's search endpoint runs, told once in Go for both sides of the
// wire: a builder that writes only queries Sieve reads as meant, and a
// processor that reads and applies a query as Sieve does, step by step,
// failures included. The sandbox serves searches with the processor; the
// client checks Skimmer's answers with it.
//
// What follows is read from Sieve's source at commit b73f748 (Sieve 2.5.5,
// the first with the _-= operator that Skimmer's portal documents):
// SieveModel.cs (splitting filters and sorts), FilterTerm.cs (names,
// operator, values, unescaping), SortTerm.cs, SieveProcessor.cs (types,
// null rules, errors, paging). Each function says which part it follows.
//
//   - Filters are terms separated by commas not escaped by an odd run of
//     backslashes; whitespace after a comma is dropped, blank terms are
//     skipped. Terms are ANDed.
//   - A term is Names OP Values. Several names (A|B) or values (A==x|y):
//     every (name, value) pair is tested and the pairs are ORed, also for a
//     negated operator, whose pairs are each negated first.
//   - The operator is the first one not directly preceded by a backslash;
//     anything after a second one is dropped.
//   - A term starting with "(" is cut at its last ")" and every parenthesis
//     before the cut is deleted: a value holding one breaks the term.
//   - "null" is the null keyword for == and != on text, and for every
//     operator on other types; "\null" is the text. A null constant of a
//     type that cannot be null throws, as do > < >= <= on text and true/
//     false, text operators and * on anything but text, and unknown names.
//   - With Sieve's default options a failure is silent: the query answers
//     with the rows as they were before the failing step.
package sieve

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every error about a query the builder will not
// send: one Sieve would misread, or fail on.
var ErrInvalid = errors.New("invalid search query")

// Exception is what Sieve throws on a query it cannot apply. Message is the
// .NET exception's message, as near as this package can tell.
type Exception struct{ Message string }

func (e *Exception) Error() string { return "sieve: " + e.Message }

func throw(format string, args ...any) *Exception {
	return &Exception{Message: fmt.Sprintf(format, args...)}
}

// Op is a Sieve filter operator.
type Op string

// The operators. A trailing * makes a comparison case-insensitive; a leading
// ! negates the text operators.
const (
	Equals                  Op = "=="
	NotEquals               Op = "!="
	GreaterThan             Op = ">"
	LessThan                Op = "<"
	GreaterOrEqual          Op = ">="
	LessOrEqual             Op = "<="
	Contains                Op = "@="
	StartsWith              Op = "_="
	EndsWith                Op = "_-="
	NotContains             Op = "!@="
	NotStartsWith           Op = "!_="
	NotEndsWith             Op = "!_-="
	EqualsIgnoreCase        Op = "==*"
	NotEqualsIgnoreCase     Op = "!=*"
	ContainsIgnoreCase      Op = "@=*"
	StartsWithIgnoreCase    Op = "_=*"
	EndsWithIgnoreCase      Op = "_-=*"
	NotContainsIgnoreCase   Op = "!@=*"
	NotStartsWithIgnoreCase Op = "!_=*"
	NotEndsWithIgnoreCase   Op = "!_-=*"
)

// matchOrder is the order of the alternatives in FilterTerm.OperatorsRegEx.
// A .NET regex takes the first alternative that matches at a position, and
// this order makes that the longest operator there.
var matchOrder = []Op{
	NotContainsIgnoreCase, NotStartsWithIgnoreCase, NotEndsWithIgnoreCase, NotEqualsIgnoreCase,
	NotContains, NotStartsWith, NotEndsWith,
	EqualsIgnoreCase, ContainsIgnoreCase, StartsWithIgnoreCase, EndsWithIgnoreCase,
	Equals, NotEquals, GreaterOrEqual, LessOrEqual, GreaterThan, LessThan,
	Contains, StartsWith, EndsWith,
}

// Ops lists every operator, in a stable order fit for documentation.
func Ops() []Op {
	return []Op{
		Equals, NotEquals, GreaterThan, LessThan, GreaterOrEqual, LessOrEqual,
		Contains, StartsWith, EndsWith, NotContains, NotStartsWith, NotEndsWith,
		EqualsIgnoreCase, NotEqualsIgnoreCase, ContainsIgnoreCase, StartsWithIgnoreCase,
		EndsWithIgnoreCase, NotContainsIgnoreCase, NotStartsWithIgnoreCase, NotEndsWithIgnoreCase,
	}
}

// Valid reports whether op is one of Sieve's operators.
func (op Op) Valid() bool {
	for _, o := range matchOrder {
		if o == op {
			return true
		}
	}
	return false
}

// IgnoreCase reports whether op compares without regard to case.
func (op Op) IgnoreCase() bool { return strings.HasSuffix(string(op), "*") }

// Negated reports whether op is a negated text operator (!@=, !_=, !_-=).
// != is not one: Sieve treats it as a comparison of its own.
func (op Op) Negated() bool {
	b := op.Base()
	return b == NotContains || b == NotStartsWith || b == NotEndsWith
}

// Excludes reports whether op holds when a value is absent rather than
// present: != and the negated operators. Sieve ORs the pairs of every term,
// so x!=a|b means "not a, or not b", which is nearly everything.
func (op Op) Excludes() bool { return op.Negated() || op.Base() == NotEquals }

// Base is op without its case-insensitivity star.
func (op Op) Base() Op { return Op(strings.TrimSuffix(string(op), "*")) }

// Positive is the base operator with its negation removed: !@= gives @=.
func (op Op) Positive() Op {
	if op.Negated() {
		return op.Base()[1:]
	}
	return op.Base()
}

// Orders reports whether op compares by order: > < >= <=.
func (op Op) Orders() bool {
	switch op {
	case GreaterThan, LessThan, GreaterOrEqual, LessOrEqual:
		return true
	}
	return false
}

// TextOnly reports whether op applies only to text: the text operators and
// every case-insensitive one.
func (op Op) TextOnly() bool {
	p := op.Positive()
	return p == Contains || p == StartsWith || p == EndsWith || op.IgnoreCase()
}

// TakesNull reports whether "null" after op is the null keyword on text:
// for == and != only (FilterTerm's OperatorParsed ignores the star).
func (op Op) TakesNull() bool {
	b := op.Base()
	return b == Equals || b == NotEquals
}

// opAt returns the operator that Sieve's regex matches at s[i:], if any,
// ignoring what precedes position i.
func opAt(s string, i int) Op {
	for _, op := range matchOrder {
		if strings.HasPrefix(s[i:], string(op)) {
			return op
		}
	}
	return ""
}

// findOp returns the first operator in s at or after from that is not
// directly preceded by a backslash: FilterTerm's (?<!\\) looks at one
// character only.
func findOp(s string, from int) (int, Op) {
	for i := from; i < len(s); i++ {
		if i > 0 && s[i-1] == '\\' {
			continue
		}
		if op := opAt(s, i); op != "" {
			return i, op
		}
	}
	return -1, ""
}

func opList() string {
	ops := Ops()
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = string(op)
	}
	return strings.Join(parts, " ")
}
