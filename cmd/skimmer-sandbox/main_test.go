package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var logs lockedBuffer
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	data := filepath.Join(t.TempDir(), "state.json")
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--customers", "30", "--keys", "demo", "--data", data, "--log-format", "json"}, &logs, func(a string) { addrc <- a })
	}()
	addr := <-addrc

	get := func(path, key string) *http.Response {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("skimmer-api-key", key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	resp := get("/Customers/Search?filters=LastName@=*a&pageSize=3", "demo")
	defer resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	var page struct{ Items []json.RawMessage }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
	assert.Len(t, page.Items, 3)
	assert.Equal(t, 401, get("/Customers", "wrong").StatusCode)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("did not shut down")
	}
	out := logs.String()
	assert.Contains(t, out, "demo data, not a real Skimmer account")
	assert.Contains(t, out, `"path":"/Customers/Search"`)
	assert.NotContains(t, out, "LastName@=", "queries are not logged")
	assert.NotContains(t, out, "demo\"", "keys are not logged")
	assert.FileExists(t, data)
}

func TestBadFlags(t *testing.T) {
	var out lockedBuffer
	err := run(context.Background(), []string{"--envelope", "nope", "--addr", "127.0.0.1:0"}, &out, nil)
	assert.ErrorContains(t, err, "use items, data, results or bare")
	err = run(context.Background(), []string{"--sieve-errors", "loud", "--addr", "127.0.0.1:0"}, &out, nil)
	assert.ErrorContains(t, err, "use silent or throw")
	err = run(context.Background(), []string{"--unsearchable", "Shoe", "--addr", "127.0.0.1:0"}, &out, nil)
	assert.ErrorContains(t, err, `unsearchable "Shoe" is not a search field`)
	err = run(context.Background(), []string{"--log-level", "shout"}, &out, nil)
	assert.ErrorContains(t, err, "log level")
}

func TestSieveFlags(t *testing.T) {
	for _, tt := range []struct {
		flags  []string
		status int
	}{
		{[]string{"--unsearchable", "Email4"}, 200}, // silent: every customer
		{[]string{"--unsearchable", "Email4", "--sieve-errors", "throw"}, 400},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		addrc := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, append([]string{"--addr", "127.0.0.1:0", "--customers", "12"}, tt.flags...), &lockedBuffer{}, func(a string) { addrc <- a })
		}()
		req, _ := http.NewRequest("GET", "http://"+<-addrc+"/Customers/Search?filters=Email4==x@example.com&pageSize=5", nil)
		req.Header.Set("skimmer-api-key", "demo")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		assert.Equal(t, tt.status, resp.StatusCode, tt.flags)
		if tt.status == 200 {
			var page struct{ Items []json.RawMessage }
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
			assert.Len(t, page.Items, 12, "unfiltered and unpaged")
		}
		resp.Body.Close()
		cancel()
		require.NoError(t, <-done)
	}
}
