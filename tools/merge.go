package tools

import (
	"context"
	"errors"
	"strings"
)

// recordUpdate is one update tool's record, as the read-merge-write every update
// shares sees it. Skimmer replaces the whole record on an update and has no
// ETags, so an update reads the record, applies only the named fields, and
// sends it all back; to keep the window for a writer elsewhere as small as
// it can be, the read that the write is built from is made right before
// the write, under the record's lock.
type recordUpdate[R any] struct {
	kind string // the record's kind, for its lock and for "another change to this customer"
	id   string
	read func(ctx context.Context) (R, error)
	// merge applies the call's arguments to the record as read: the
	// changes, one "  field: old → new" line each, and the write that sends
	// the merged record, which returns anything worth adding to the report.
	merge func(rec R) (changes []string, send func(ctx context.Context) (string, error), err error)
	what  func(rec R) string // "customer Emily Smith, id …"
	// note ends the preview: what else holds.
	note string
}

// planUpdate is the shared read-merge-write. A preview reads once; a plan
// to apply takes the record's lock, reads once, and holds the lock until
// its write is done (Plan.free). Either way, no change means nothing is
// sent.
func planUpdate[R any](ctx context.Context, w *writeCall, u recordUpdate[R]) (*Plan, error) {
	release := func() {}
	if w.applying {
		var err error
		if release, err = w.lock(ctx, u.kind, u.id); err != nil {
			return nil, err
		}
	}
	rec, err := u.read(ctx)
	if err != nil {
		release()
		return nil, err
	}
	changes, send, err := u.merge(rec)
	if err != nil {
		release()
		return nil, err
	}
	what := u.what(rec)
	if len(changes) == 0 {
		release()
		return &Plan{Unchanged: "Nothing to change: " + what + " already has these values."}, nil
	}
	diff := strings.Join(changes, "\n")
	return &Plan{
		Preview: "Would update " + what + ":\n" + diff + "\n" + u.note,
		Apply: func(ctx context.Context) (string, error) {
			extra, err := send(ctx)
			if err != nil {
				return "", err
			}
			return "Updated " + what + ":\n" + diff + extra, nil
		},
		release: release,
	}, nil
}

// lock takes the lock of one record for a read-merge-write. Record ids are
// GUIDs, unique across accounts, so the name needs no caller in it: two
// keys of one company updating one customer queue behind each other.
func (w *writeCall) lock(ctx context.Context, kind, id string) (func(), error) {
	release, err := w.store.Lock(ctx, "record/"+kind+"/"+id, lockLease)
	switch {
	case errors.Is(err, ErrBusy):
		return nil, refuse(failBusy, "Another change to this %s is in progress; try again in a moment. Nothing was changed.", kind)
	case err != nil:
		return nil, storeFailure(err)
	}
	return release, nil
}
