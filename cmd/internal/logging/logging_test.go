package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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

func TestRequests(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	h := Requests(log, slog.LevelInfo, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, flushes := w.(http.Flusher)
		assert.True(t, flushes, "streaming still works through the wrapper")
		w.WriteHeader(http.StatusTeapot)
	}))
	req := httptest.NewRequest("GET", "/Customers/Search?filters=PrimaryEmail==ann@example.com", nil)
	req.Header.Set("skimmer-api-key", "secret-key-123")
	h.ServeHTTP(httptest.NewRecorder(), req)
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "/Customers/Search", line["path"])
	assert.EqualValues(t, http.StatusTeapot, line["status"])
	assert.NotContains(t, buf.String(), "ann@example.com")
	assert.NotContains(t, buf.String(), "secret-key-123")
}

// TestJSONDurationsAreReadable: a JSON log line says "10s", as the text
// format does, not 10000000000 nanoseconds.
func TestJSONDurationsAreReadable(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, "json", "info")
	require.NoError(t, err)
	l.Info("shutting down", "limit", 10*time.Second, slog.Group("call", "took", 1500*time.Microsecond), "n", 3)
	var line struct {
		Limit string
		Call  struct{ Took string }
		N     int
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	assert.Equal(t, "10s", line.Limit)
	assert.Equal(t, "1.5ms", line.Call.Took, "inside a group too")
	assert.Equal(t, 3, line.N, "other values keep their JSON type")
}
