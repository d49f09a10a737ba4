package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Store keeps the little state that cannot travel inside a token: the
// authorization codes waiting to be exchanged, which codes were spent,
// each grant's one live refresh token (by its serial), and which grants
// were revoked: a few entries per grant, never one per use. Clients and
// grants themselves are sealed into their ids and tokens, so the store
// never holds a Skimmer key in clear (a waiting code holds it sealed).
//
// It is shaped for a shared store such as Redis, so that replicas can
// share it: every entry expires, single use is an atomic get-and-delete or
// compare-and-set, and nothing is ever listed or scanned.
//
//	Put   SET key value PX ttl
//	Swap  a script: GET key; if nil or old, SET key value PX ttl
//	Get   GET key
//	Take  GETDEL key
type Store interface {
	// Put stores value under key for ttl, replacing what was there.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Swap stores value under key for ttl if key holds old, or holds
	// nothing, and reports whether it did, in one step: of two swaps from
	// one old value, one succeeds. A swap that fails with an error did not
	// happen (a shared store whose command may still run late undoes it).
	Swap(ctx context.Context, key string, old, value []byte, ttl time.Duration) (bool, error)
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
// so that revocations and refresh tokens' rotation survive a restart;
// expired entries are dropped on the way. The file is written from a copy
// taken under the lock, outside it, so token checks (Get) never wait for
// the disk; concurrent changes share one write.
type MemoryStore struct {
	mu      sync.RWMutex
	entries map[string]memoryEntry
	version uint64 // changes made
	writes  int
	file    string
	now     func() time.Time

	saveMu sync.Mutex // one writer of the file at a time
	saved  uint64     // the version the file holds
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
	if err := usableFolder(filepath.Dir(file)); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(file)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case errors.Is(err, os.ErrPermission):
		return nil, fmt.Errorf("the server's user (%s) cannot read %s: give the file to that user, or move it aside to start afresh", who(), file)
	case err != nil:
		return nil, fmt.Errorf("reading the OAuth state file: %w", err)
	default:
		if err := json.Unmarshal(raw, &m.entries); err != nil {
			return nil, fmt.Errorf("the OAuth state file %s is not valid JSON (%v): move it aside to start afresh, which signs nobody out but forgets revocations", file, err)
		}
		m.prune()
	}
	// Written once now, as on every change: a folder the server cannot
	// write in is found at start, not at the first sign-in.
	if err := m.write(m.entries); err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("the server's user (%s) cannot write in %s: make the folder writable by that user (in a container, mount a volume there that the image's user can write)", who(), filepath.Dir(file))
		}
		return nil, err
	}
	return m, nil
}

// usableFolder says what to do when the state file's folder is missing.
func usableFolder(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("the folder %s does not exist: create it and make it writable by the server's user (%s); in a container, mount a volume there", dir, who())
	case err != nil:
		return fmt.Errorf("the folder %s cannot be used: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%s is a file, not a folder: give a file path inside a folder, e.g. /var/lib/skimmer-mcp/oauth-state.json", dir)
	}
	return nil
}

// who names the user this process runs as, for a sentence about files.
func who() string {
	if uid := os.Getuid(); uid >= 0 {
		if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
			return fmt.Sprintf("%s, uid %d", u.Username, uid)
		}
		return fmt.Sprintf("uid %d", uid)
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "the user it runs as"
}

func (m *MemoryStore) Put(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	m.entries[key] = memoryEntry{Value: value, Expires: m.now().Add(ttl)}
	v := m.changed()
	m.mu.Unlock()
	return m.persist(v)
}

func (m *MemoryStore) Swap(_ context.Context, key string, old, value []byte, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	was, held := m.entries[key]
	if held && m.now().Before(was.Expires) && !bytes.Equal(was.Value, old) {
		m.mu.Unlock()
		return false, nil
	}
	m.entries[key] = memoryEntry{Value: value, Expires: m.now().Add(ttl)}
	v := m.changed()
	m.mu.Unlock()
	if err := m.persist(v); err != nil {
		// It did not happen: the client is told to try again with the
		// same old value, which must still match.
		m.mu.Lock()
		if e, ok := m.entries[key]; ok && bytes.Equal(e.Value, value) {
			if held {
				m.entries[key] = was
			} else {
				delete(m.entries, key)
			}
		}
		m.mu.Unlock()
		return false, err
	}
	return true, nil
}

func (m *MemoryStore) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.entries[key]
	if !ok || !m.now().Before(e.Expires) {
		return nil, ErrNotFound
	}
	return e.Value, nil
}

func (m *MemoryStore) Take(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	e, ok := m.entries[key]
	if !ok || !m.now().Before(e.Expires) {
		m.mu.Unlock()
		return nil, ErrNotFound
	}
	delete(m.entries, key)
	v := m.changed()
	m.mu.Unlock()
	return e.Value, m.persist(v)
}

// Len is how many entries are held, expired ones included until the next
// prune.
func (m *MemoryStore) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.entries)
}

// changed counts a change, prunes now and then, and returns the version
// the file must reach. Called with mu held.
func (m *MemoryStore) changed() uint64 {
	m.version++
	m.writes++
	if m.writes%256 == 0 {
		m.prune()
	}
	return m.version
}

func (m *MemoryStore) prune() {
	now := m.now()
	for k, e := range m.entries {
		if !now.Before(e.Expires) {
			delete(m.entries, k)
		}
	}
}

// persist returns once the file holds version v or a later one: if no
// write since v has finished, it writes the state as it is now, which
// includes v, and with it every change made while it waited.
func (m *MemoryStore) persist(v uint64) error {
	if m.file == "" {
		return nil
	}
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	if m.saved >= v {
		return nil
	}
	m.mu.RLock()
	snapshot, version := maps.Clone(m.entries), m.version
	m.mu.RUnlock()
	now := m.now()
	maps.DeleteFunc(snapshot, func(_ string, e memoryEntry) bool { return !now.Before(e.Expires) })
	if err := m.write(snapshot); err != nil {
		return err
	}
	m.saved = version
	return nil
}

// write replaces the file with entries, atomically: a temporary file,
// readable by this user only, renamed over it.
func (m *MemoryStore) write(entries map[string]memoryEntry) error {
	raw, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(m.file), ".oauth-state-*") // mode 0600
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
