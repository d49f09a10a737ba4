package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/invopop/jsonschema"
)

// maxArgBytes bounds the arguments of one call. The largest legitimate
// call, a customer with several service locations, is a few KB.
const maxArgBytes = 64 << 10

// maxProblems is how many argument problems one answer lists.
const maxProblems = 5

// argError is a call's arguments failing the tool's schema. Each problem
// names the argument and the fix.
type argError struct{ problems []string }

func (e *argError) Error() string {
	return "Invalid arguments: " + strings.Join(e.problems, "; ") + "."
}

// decode checks raw arguments against the schema and fills dst. It is
// lenient where models often slip and the intent is plain: "42" for 42,
// "true" for true, a single value for a one-element array, a number for a
// zip code, "call" for "Call", an array sent as a JSON string, null for an
// argument not given. It is strict where a slip would change the answer:
// an unknown argument name is an error, not ignored. It returns the
// arguments as decoded, defaults applied.
func (s *argSchema) decode(raw []byte, dst any) (map[string]any, error) {
	if len(raw) > maxArgBytes {
		return nil, &argError{problems: []string{fmt.Sprintf("the arguments are %s; the most a call may send is %s", size(len(raw)), size(maxArgBytes))}}
	}
	var v any = map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, &argError{problems: []string{"the arguments are not valid JSON: " + err.Error()}}
		}
		if v == nil {
			v = map[string]any{}
		}
	}
	w := &walker{schema: s}
	v = w.value("", s.root, v)
	if len(w.problems) > 0 {
		return nil, &argError{problems: w.problems}
	}
	clean, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("re-encoding arguments: %w", err)
	}
	if err := json.Unmarshal(clean, dst); err != nil {
		return nil, &argError{problems: []string{err.Error()}}
	}
	obj, _ := v.(map[string]any)
	return obj, nil
}

type walker struct {
	schema   *argSchema
	problems []string
}

// fail records a problem as a sentence about the argument at path.
func (w *walker) fail(path, format string, args ...any) {
	if len(w.problems) < maxProblems {
		w.problems = append(w.problems, name(path)+" "+fmt.Sprintf(format, args...))
	}
}

func name(path string) string {
	if path == "" {
		return "the arguments"
	}
	return path
}

// value checks and coerces v against n, and returns what to decode.
func (w *walker) value(path string, n *jsonschema.Schema, v any) any {
	ts := types(n)
	if v == nil {
		if slices.Contains(ts, "null") {
			return nil
		}
		w.fail(path, "must not be null")
		return nil
	}
	switch {
	case slices.Contains(ts, "object"):
		return w.object(path, n, v)
	case slices.Contains(ts, "array"):
		return w.array(path, n, v)
	case slices.Contains(ts, "integer"), slices.Contains(ts, "number"):
		return w.number(path, n, v, slices.Contains(ts, "integer"))
	case slices.Contains(ts, "boolean"):
		return w.boolean(path, v)
	case slices.Contains(ts, "string"):
		return w.str(path, n, v)
	}
	return v
}

func (w *walker) object(path string, n *jsonschema.Schema, v any) any {
	if s, ok := v.(string); ok && strings.HasPrefix(strings.TrimSpace(s), "{") {
		v = parseEmbedded(s, v)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		w.fail(path, "must be an object, not %s", describe(v))
		return v
	}
	known := map[string]bool{}
	if n.Properties != nil {
		for p := n.Properties.Oldest(); p != nil; p = p.Next() {
			known[p.Key] = true
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if known[k] {
			continue
		}
		hint := ""
		if near := closest(k, known); near != "" {
			hint = fmt.Sprintf(` (did you mean "%s"?)`, near)
		}
		w.fail(join(path, k), "is not an argument of this tool%s; it takes %s", hint, list(known))
	}
	out := make(map[string]any, len(obj))
	if n.Properties == nil {
		return out
	}
	for p := n.Properties.Oldest(); p != nil; p = p.Next() {
		val, given := obj[p.Key]
		if given && val == nil && !slices.Contains(types(p.Value), "null") {
			given = false // null for "not given", as models often send it
		}
		switch {
		case given:
			out[p.Key] = w.value(join(path, p.Key), p.Value, val)
		case p.Value.Default != nil:
			out[p.Key] = p.Value.Default
		case slices.Contains(n.Required, p.Key):
			w.fail(join(path, p.Key), "is required (%s)", strings.TrimSuffix(p.Value.Description, "."))
		}
	}
	return out
}

func (w *walker) array(path string, n *jsonschema.Schema, v any) any {
	if s, ok := v.(string); ok && strings.HasPrefix(strings.TrimSpace(s), "[") {
		v = parseEmbedded(s, v)
	}
	arr, ok := v.([]any)
	if !ok {
		arr = []any{v} // one value where a list is expected
	}
	if n.MaxItems != nil && uint64(len(arr)) > *n.MaxItems {
		w.fail(path, "has %d items; at most %d are allowed", len(arr), *n.MaxItems)
		return arr
	}
	if n.MinItems != nil && uint64(len(arr)) < *n.MinItems {
		w.fail(path, "needs at least %d item(s)", *n.MinItems)
	}
	out := make([]any, len(arr))
	for i, item := range arr {
		out[i] = w.value(fmt.Sprintf("%s[%d]", path, i), n.Items, item)
	}
	return out
}

func (w *walker) number(path string, n *jsonschema.Schema, v any, integer bool) any {
	var num json.Number
	switch x := v.(type) {
	case json.Number:
		num = x
	case string:
		num = json.Number(strings.TrimSpace(x))
	default:
		w.fail(path, "must be a number, not %s", describe(v))
		return v
	}
	f, err := num.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		w.fail(path, "must be a number, not %s", describe(v))
		return v
	}
	if _, text := v.(string); text {
		// Text that parses ("007", "1e2", "0x1p3") is not always a JSON
		// number: write it the canonical way.
		num = json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	}
	if integer {
		i, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil {
			if f != float64(int64(f)) {
				w.fail(path, "must be a whole number, not %s", num)
				return v
			}
			i = int64(f)
		}
		num = json.Number(strconv.FormatInt(i, 10))
	}
	if n.Minimum != "" {
		if lo, _ := n.Minimum.Float64(); f < lo {
			w.fail(path, "must be at least %s, not %s", n.Minimum, num)
		}
	}
	if n.Maximum != "" {
		if hi, _ := n.Maximum.Float64(); f > hi {
			w.fail(path, "must be at most %s, not %s", n.Maximum, num)
		}
	}
	return num
}

func (w *walker) boolean(path string, v any) any {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	w.fail(path, "must be true or false, not %s", describe(v))
	return v
}

func (w *walker) str(path string, n *jsonschema.Schema, v any) any {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = string(x) // a zip code or phone number sent as a number
	case bool:
		s = strconv.FormatBool(x) // a filter on a true/false field
	default:
		w.fail(path, "must be text, not %s", describe(v))
		return v
	}
	if len(n.Enum) > 0 {
		for _, e := range n.Enum {
			if es, ok := e.(string); ok && strings.EqualFold(es, s) {
				return es
			}
		}
		w.fail(path, "must be one of %s, not %q%s", enumList(n.Enum), s, didYouMean(s, n.Enum))
		return s
	}
	if n.MaxLength != nil && uint64(utf8.RuneCountInString(s)) > *n.MaxLength {
		w.fail(path, "is %d characters; the limit is %d", utf8.RuneCountInString(s), *n.MaxLength)
	}
	if n.MinLength != nil && uint64(utf8.RuneCountInString(s)) < *n.MinLength {
		w.fail(path, "must be at least %d character(s)", *n.MinLength)
	}
	if kind, ok := w.schema.ids[n]; ok && !idFormat.MatchString(s) {
		hint := ""
		if h := idHint(kind); h != "" {
			hint = "; " + h
		}
		w.fail(path, "%q is not a Skimmer id (32 lower-case hex characters)%s", short(s), hint)
	}
	if re := w.schema.patterns[n]; re != nil && !re.MatchString(s) {
		rule := w.schema.rules[n]
		if rule == "" {
			rule = "it must match " + n.Pattern
		}
		w.fail(path, "%q is not allowed: %s", short(s), rule)
	}
	return s
}

func parseEmbedded(s string, orig any) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return orig
	}
	return v
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the text %q", short(x))
	case json.Number:
		return "the number " + string(x)
	case bool:
		return fmt.Sprintf("%t", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%v", v)
}

func short(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}

func size(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", (n+1023)>>10)
}

func list(known map[string]bool) string {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func enumList(enum []any) string {
	parts := make([]string, len(enum))
	for i, e := range enum {
		parts[i] = fmt.Sprint(e)
	}
	return strings.Join(parts, ", ")
}

// didYouMean suggests the values of an enum that s is a typo or a part of
// ("City" for BillingCity, "phone" for the four phone fields), or "".
func didYouMean(s string, enum []any) string {
	var values []string
	known := map[string]bool{}
	for _, e := range enum {
		if es, ok := e.(string); ok {
			known[es] = true
			if len(s) >= 3 && strings.Contains(strings.ToLower(es), strings.ToLower(strings.TrimSpace(s))) {
				values = append(values, es)
			}
		}
	}
	if len(values) == 0 {
		if near := closest(s, known); near != "" {
			values = []string{near}
		}
	}
	switch {
	case len(values) == 1:
		return fmt.Sprintf(" (did you mean %s?)", values[0])
	case len(values) > 1:
		return fmt.Sprintf(" (did you mean one of %s?)", strings.Join(values, ", "))
	}
	return ""
}

// closest finds the known name nearest to k, if any is near enough to be a
// typo of it (or differs only in case).
func closest(k string, known map[string]bool) string {
	best, bestD := "", 3
	for name := range known {
		if strings.EqualFold(name, k) {
			return name
		}
		if d := distance(strings.ToLower(k), strings.ToLower(name)); d < bestD || (d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	if bestD > 2 {
		return ""
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
