package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

// state is everything the sandbox account holds; it is also the format of
// the data file.
//
// Records are never changed in place: a change puts a new *Customer or
// *ActivityLog where the old one was. A reader may therefore keep the
// pointers it collected under the read lock and encode them after letting
// go of it.
type state struct {
	Version       int                               `json:"version"`
	Customers     []*skimmer.Customer               `json:"customers"` // in creation order
	ActivityLogs  map[string][]*skimmer.ActivityLog `json:"activityLogs"`
	Tags          []skimmer.Tag                     `json:"tags"`
	Deactivations []Deactivation                    `json:"deactivations"`
}

// Deactivation records one deactivate call and its cascade flags, which
// the sandbox accepts but has nothing to apply to (routes, work orders)
// beyond the tags.
type Deactivation struct {
	At      time.Time                          `json:"at"`
	Request skimmer.DeactivateCustomersRequest `json:"request"`
}

const stateVersion = 1

type store struct {
	mu    sync.RWMutex
	st    state
	byID  map[string]int  // customer id → index in st.Customers
	taken map[string]bool // every id the account holds, of any record
	file  string
	clock func() time.Time
	ids   func() string // the id source; use newID
}

func openStore(opts Options) (*store, error) {
	s := &store{file: opts.DataFile, clock: opts.Clock, ids: opts.NewID}
	if s.file != "" {
		raw, err := os.ReadFile(s.file)
		switch {
		case err == nil:
			if err := json.Unmarshal(raw, &s.st); err != nil {
				return nil, fmt.Errorf("sandbox: data file %s is not sandbox state (%v); move it away to start from seed data", s.file, err)
			}
			if s.st.Version != stateVersion {
				return nil, fmt.Errorf("sandbox: data file %s has version %d, this build reads %d; move it away to start from seed data", s.file, s.st.Version, stateVersion)
			}
			s.index()
			return s, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("sandbox: reading data file: %w", err)
		}
	}
	s.st = generate(opts.Seed, max(opts.Customers, 0), opts.AsOf)
	s.index()
	if s.file != "" {
		if err := s.save(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *store) index() {
	if s.st.ActivityLogs == nil {
		s.st.ActivityLogs = map[string][]*skimmer.ActivityLog{}
	}
	s.byID = make(map[string]int, len(s.st.Customers))
	s.taken = map[string]bool{}
	for i, c := range s.st.Customers {
		s.byID[c.ID] = i
		s.taken[c.ID] = true
		for _, l := range c.ServiceLocations {
			s.taken[l.ID] = true
		}
	}
	for _, logs := range s.st.ActivityLogs {
		for _, l := range logs {
			s.taken[l.ID] = true
		}
	}
	for _, t := range s.st.Tags {
		s.taken[t.ID] = true
	}
}

// newID draws an id no record of the account has: an injected or seeded
// id source starts over when a sandbox is restarted from its data file, so
// a drawn id may be one it handed out in an earlier run. Call with the
// write lock held.
func (s *store) newID() string {
	for {
		if id := s.ids(); !s.taken[id] {
			s.taken[id] = true
			return id
		}
	}
}

// change runs fn under the write lock and saves the result. If the save
// fails, undo puts the state back, so memory and file never disagree and
// the caller can report that nothing changed.
func (s *store) change(fn func(st *state) (undo func(), err error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	undo, err := fn(&s.st)
	if err != nil {
		return err
	}
	if err := s.save(); err != nil {
		if undo != nil {
			undo()
		}
		return err
	}
	return nil
}

// save writes the state atomically: a temp file beside the target, synced,
// then renamed over it. A crash leaves the old file or the new one, never
// half of one.
func (s *store) save() error {
	if s.file == "" {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.file), ".sandbox-*.json")
	if err != nil {
		return fmt.Errorf("sandbox: saving state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	s.st.Version = stateVersion
	enc := json.NewEncoder(tmp)
	if err := enc.Encode(&s.st); err != nil {
		tmp.Close()
		return fmt.Errorf("sandbox: saving state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sandbox: saving state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sandbox: saving state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.file); err != nil {
		return fmt.Errorf("sandbox: saving state: %w", err)
	}
	return nil
}

// customer returns the customer with id, or nil.
func (s *store) customer(id string) *skimmer.Customer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.customerLocked(id)
}

func (s *store) customerLocked(id string) *skimmer.Customer {
	i, ok := s.byID[strings.ToLower(id)]
	if !ok {
		return nil
	}
	return s.st.Customers[i]
}

// customers returns the customers, in creation order.
func (s *store) customers() []*skimmer.Customer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*skimmer.Customer(nil), s.st.Customers...)
}

// replace puts c where the customer with its id was, and returns undo.
func (s *store) replace(st *state, c *skimmer.Customer) func() {
	i := s.byID[c.ID]
	old := st.Customers[i]
	st.Customers[i] = c
	return func() { st.Customers[i] = old }
}

// resolveTags gives each tag the id the account knows it by, creating
// unknown names. It returns undo for the tags it created.
func (s *store) resolveTags(st *state, tags []skimmer.Tag) ([]skimmer.Tag, func(), error) {
	n := len(st.Tags)
	undo := func() { st.Tags = st.Tags[:n] }
	out := make([]skimmer.Tag, 0, len(tags))
	seen := map[string]bool{}
	for i, t := range tags {
		name := strings.TrimSpace(t.Name)
		idx := slices.IndexFunc(st.Tags, func(known skimmer.Tag) bool {
			if t.ID != "" {
				return strings.EqualFold(known.ID, t.ID)
			}
			return strings.EqualFold(known.Name, name)
		})
		if idx < 0 && t.ID != "" {
			undo()
			return nil, nil, invalid(map[string][]string{fmt.Sprintf("Tags[%d].Id", i): {fmt.Sprintf("No tag has the id %s.", t.ID)}})
		}
		if idx < 0 {
			st.Tags = append(st.Tags, skimmer.Tag{ID: s.newID(), Name: name})
			idx = len(st.Tags) - 1
		}
		if found := st.Tags[idx]; !seen[found.ID] {
			seen[found.ID] = true
			out = append(out, found)
		}
	}
	return out, undo, nil
}
