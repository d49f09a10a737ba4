package logging

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNew(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, "text", "info")
	require.NoError(t, err)
	l.Debug("hidden")
	l.Info("shown", "k", 1)
	assert.NotContains(t, buf.String(), "hidden")
	assert.Contains(t, buf.String(), "shown k=1")
	assert.NotContains(t, buf.String(), "\x1b[", "no colour when not a terminal")

	buf.Reset()
	l, err = New(&buf, "json", "debug")
	require.NoError(t, err)
	l.Debug("d")
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "d", line["msg"])

	_, err = New(&buf, "xml", "info")
	assert.ErrorContains(t, err, "use text, json")
	_, err = New(&buf, "text", "loud")
	assert.ErrorContains(t, err, "use debug, info, warn or error")
}
