package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/skimmer-mcp/skimmer-mcp/skimmer"
)

func (s *Server) listActivityLogs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("customerId")
	s.store.mu.RLock()
	c := s.store.customerLocked(id)
	var logs []*skimmer.ActivityLog
	if c != nil {
		logs = slices.Clone(s.store.st.ActivityLogs[c.ID])
	}
	s.store.mu.RUnlock()
	if c == nil {
		fail(w, notFound("Customer", id))
		return
	}
	if logs == nil {
		logs = []*skimmer.ActivityLog{}
	}
	writeJSON(w, http.StatusOK, logs)
}

// activity finds one entry; the customer must exist and own it.
func (s *Server) activityLocked(customerID, id string) (*skimmer.ActivityLog, int, *httpError) {
	c := s.store.customerLocked(customerID)
	if c == nil {
		return nil, -1, notFound("Customer", customerID)
	}
	logs := s.store.st.ActivityLogs[c.ID]
	i := slices.IndexFunc(logs, func(l *skimmer.ActivityLog) bool { return strings.EqualFold(l.ID, id) })
	if i < 0 {
		return nil, -1, notFound("Activity log", id)
	}
	return logs[i], i, nil
}

func (s *Server) getActivityLog(w http.ResponseWriter, r *http.Request) {
	s.store.mu.RLock()
	l, _, herr := s.activityLocked(r.PathValue("customerId"), r.PathValue("id"))
	s.store.mu.RUnlock()
	if herr != nil {
		fail(w, herr)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// activityBody reads and checks the body of a create or an update; on
// false the answer has been written.
func activityBody(w http.ResponseWriter, r *http.Request) (skimmer.ActivityLogRequest, bool) {
	var req skimmer.ActivityLogRequest
	if !decodeBody(w, r, &req) {
		return req, false
	}
	if fields := checkActivity(&req); len(fields) > 0 {
		fail(w, invalid(fields))
		return req, false
	}
	return req, true
}

func (s *Server) createActivityLog(w http.ResponseWriter, r *http.Request) {
	req, ok := activityBody(w, r)
	if !ok {
		return
	}
	var created *skimmer.ActivityLog
	err := s.store.change(func(st *state) (func(), error) {
		c := s.store.customerLocked(r.PathValue("customerId"))
		if c == nil {
			return nil, notFound("Customer", r.PathValue("customerId"))
		}
		now := skimmer.Time{Time: s.store.clock().UTC()}
		author := authorOf(req)
		created = &skimmer.ActivityLog{
			CustomerID:  c.ID,
			ID:          s.store.newID(),
			Type:        req.Type,
			Title:       req.Title,
			Description: req.Description,
			CreatedAt:   now,
			UpdatedAt:   now,
		}
		created.CreatedByName, created.UpdatedByName = &author, &author
		n := len(st.ActivityLogs[c.ID])
		st.ActivityLogs[c.ID] = append(st.ActivityLogs[c.ID], created)
		return func() { st.ActivityLogs[c.ID] = st.ActivityLogs[c.ID][:n] }, nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, created)
}

func (s *Server) updateActivityLog(w http.ResponseWriter, r *http.Request) {
	req, ok := activityBody(w, r)
	if !ok {
		return
	}
	var updated *skimmer.ActivityLog
	err := s.store.change(func(st *state) (func(), error) {
		old, i, herr := s.activityLocked(r.PathValue("customerId"), r.PathValue("id"))
		if herr != nil {
			return nil, herr
		}
		if old.IsSystemGenerated {
			return nil, systemGenerated("updated")
		}
		l := *old
		l.Type, l.Title, l.Description = req.Type, req.Title, req.Description
		author := authorOf(req)
		l.UpdatedByName = &author
		l.UpdatedAt = skimmer.Time{Time: s.store.clock().UTC()}
		logs := st.ActivityLogs[old.CustomerID]
		logs[i] = &l
		updated = &l
		return func() { logs[i] = old }, nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, updated)
}

func (s *Server) deleteActivityLog(w http.ResponseWriter, r *http.Request) {
	err := s.store.change(func(st *state) (func(), error) {
		old, i, herr := s.activityLocked(r.PathValue("customerId"), r.PathValue("id"))
		if herr != nil {
			return nil, herr
		}
		if old.IsSystemGenerated {
			return nil, systemGenerated("deleted")
		}
		before := st.ActivityLogs[old.CustomerID]
		st.ActivityLogs[old.CustomerID] = slices.Delete(slices.Clone(before), i, i+1)
		return func() { st.ActivityLogs[old.CustomerID] = before }, nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func systemGenerated(verb string) *httpError {
	return &httpError{status: http.StatusBadRequest, title: "Bad Request",
		detail: fmt.Sprintf("System-generated activity logs cannot be %s; only manually created ones can.", verb)}
}

func authorOf(req skimmer.ActivityLogRequest) string {
	if req.AuthorName != nil && strings.TrimSpace(*req.AuthorName) != "" {
		return *req.AuthorName
	}
	return skimmer.ActivityDefaultAuthor
}

// checkActivity applies Skimmer's documented rules, and puts the type in
// its canonical case as ASP.NET's enum binding would.
func checkActivity(req *skimmer.ActivityLogRequest) map[string][]string {
	fields := map[string][]string{}
	if i := slices.IndexFunc(skimmer.ActivityTypes, func(t string) bool { return strings.EqualFold(t, req.Type) }); i >= 0 {
		req.Type = skimmer.ActivityTypes[i]
	} else {
		fields["Type"] = []string{fmt.Sprintf("The value '%s' is not valid; use one of %s.", req.Type, strings.Join(skimmer.ActivityTypes, ", "))}
	}
	switch n := utf8.RuneCountInString(req.Title); {
	case strings.TrimSpace(req.Title) == "":
		fields["Title"] = []string{"The Title field is required."}
	case n > skimmer.ActivityTitleMax:
		fields["Title"] = []string{fmt.Sprintf("The field Title must be a string with a maximum length of %d.", skimmer.ActivityTitleMax)}
	case !skimmer.ActivityTitlePattern.MatchString(req.Title):
		fields["Title"] = []string{"The Title may only contain letters, numbers, dashes and spaces."}
	}
	if req.Description != nil && utf8.RuneCountInString(*req.Description) > skimmer.ActivityDescriptionMax {
		fields["Description"] = []string{fmt.Sprintf("The field Description must be a string with a maximum length of %d.", skimmer.ActivityDescriptionMax)}
	}
	return fields
}
