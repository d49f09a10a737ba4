package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Store keeps the little state that cannot travel inside a token: the
// authorization codes waiting to be exchanged, which codes and refresh
// tokens were spent, and which grants were revoked. Clients and grants
// themselves are sealed into their ids and tokens, so the store never
// holds a Skimmer key in clear (a waiting code holds it sealed).
//
// It is shaped for a shared store such as Redis, so that replicas can
// share it: every entry expires, single use is an atomic set-if-absent or
// get-and-delete, and nothing is ever listed or scanned.
//
//	Put     SET key value PX ttl
//	PutNew  SET key value PX ttl NX
//	Get     GET key
//	Take    GETDEL key
type Store interface {
	// Put stores value under key for ttl, replacing what was there.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// PutNew stores value under key for ttl only if nothing is there, and
	// reports whether it did.
	PutNew(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Get returns the value under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Take returns the value under key and removes it in one step, so that
	// of two concurrent takers only one gets it; or ErrNotFound.
	Take(ctx context.Context, key string) ([]byte, error)
}

// ErrNotFound is a Store's answer for a key that holds nothing, or held
// something that has expired.
var ErrNotFound = errors.New("not found")

// MemoryStore is the in-process Store. With a file it writes every change
// there (to a temporary file, then a rename), and reads it back at start,
// so that revocations and spent tokens survive a restart; expired entries
// are dropped on the way.
type MemoryStore struct {
	mu      sync.Mutex
	entries map[string]memoryEntry
	file    string
	now     func() time.Time
	writes  int
}

type memoryEntry struct {
	Value   []byte    `json:"v"`
	Expires time.Time `json:"e"`
}

// NewMemoryStore returns an in-process store, kept in file when it is not
// empty.
func NewMemoryStore(file string, now func() time.Time) (*MemoryStore, error) {
	if now == nil {
		now = time.Now
	}
	m := &MemoryStore{entries: map[string]memoryEntry{}, file: file, now: now}
	if file == "" {
		return m, nil
	}
	raw, err := os.ReadFile(file)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return m, m.save()
	case err != nil:
		return nil, fmt.Errorf("reading the OAuth state file: %w", err)
	}
	if err := json.Unmarshal(raw, &m.entries); err != nil {
		return nil, fmt.Errorf("the OAuth state file %s is not valid JSON (%v): move it aside to start afresh, which signs nobody out but forgets revocations", file, err)
	}
	m.prune()
	return m, nil
}

func (m *MemoryStore) Put(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[key] = memoryEntry{Value: value, Expires: m.now().Add(ttl)}
	return m.changed()
}

func (m *MemoryStore) PutNew(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[key]; ok && m.now().Before(e.Expires) {
		return false, nil
	}
	m.entries[key] = memoryEntry{Value: value, Expires: m.now().Add(ttl)}
	return true, m.changed()
}

func (m *MemoryStore) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || !m.now().Before(e.Expires) {
		return nil, ErrNotFound
	}
	return e.Value, nil
}

func (m *MemoryStore) Take(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || !m.now().Before(e.Expires) {
		return nil, ErrNotFound
	}
	delete(m.entries, key)
	return e.Value, m.changed()
}

// Len is how many entries are held, expired ones included until the next
// prune.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// changed prunes now and then, and saves the file. Called with mu held.
func (m *MemoryStore) changed() error {
	m.writes++
	if m.writes%256 == 0 || m.file != "" {
		m.prune()
	}
	return m.save()
}

func (m *MemoryStore) prune() {
	now := m.now()
	for k, e := range m.entries {
		if !now.Before(e.Expires) {
			delete(m.entries, k)
		}
	}
}

func (m *MemoryStore) save() error {
	if m.file == "" {
		return nil
	}
	raw, err := json.Marshal(m.entries)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(m.file), ".oauth-state-*")
	if err != nil {
		return fmt.Errorf("saving the OAuth state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("saving the OAuth state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving the OAuth state: %w", err)
	}
	if err := os.Rename(tmp.Name(), m.file); err != nil {
		return fmt.Errorf("saving the OAuth state: %w", err)
	}
	return nil
}
