package oauth

import (
	"html"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPageEscapesEveryValue: every string the page shows may come from a
// stranger (an app's registered name, its redirect host, the hidden form
// values) and is written escaped wherever it appears, on the form and on
// the error page. A value full of markup adds no tag and no quote to the
// page, so it can neither add an element nor leave its attribute; and every
// string field shows somewhere, so one added later is covered too.
func TestPageEscapesEveryValue(t *testing.T) {
	fill := func(value func(field string) string) []pageData {
		var out []pageData
		for _, form := range []bool{true, false} {
			d := pageData{Form: form, Loopback: true, WriteAllowed: true, WriteChecked: true, Confirmed: true}
			v := reflect.ValueOf(&d).Elem()
			for i := range v.NumField() {
				if f := v.Field(i); f.Kind() == reflect.String {
					f.SetString(value(v.Type().Field(i).Name))
				}
			}
			out = append(out, d)
		}
		return out
	}
	hostile := func(field string) string { return `<script>` + field + `</script>"' onload="x" &amp;` }
	benign := func(field string) string { return field }

	shown := map[string]bool{}
	for i, d := range fill(hostile) {
		page := d.html()
		plain := fill(benign)[i].html()
		assert.False(t, strings.Contains(page, "<script>"), "a value's markup reached the page")
		assert.Equal(t, strings.Count(plain, "<"), strings.Count(page, "<"), "a value added a tag")
		assert.Equal(t, strings.Count(plain, `"`), strings.Count(page, `"`), "a value added a quote, which could end its attribute")
		assert.Equal(t, strings.Count(plain, "'"), strings.Count(page, "'"))
		v := reflect.ValueOf(d)
		for j := range v.NumField() {
			if f := v.Field(j); f.Kind() == reflect.String && strings.Contains(page, html.EscapeString(f.String())) {
				shown[v.Type().Field(j).Name] = true
			}
		}
	}
	typ := reflect.TypeFor[pageData]()
	for i := range typ.NumField() {
		if f := typ.Field(i); f.Type.Kind() == reflect.String {
			assert.True(t, shown[f.Name], "pageData.%s is never shown: check that the page writes it, escaped", f.Name)
		}
	}
}
