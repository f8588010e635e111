package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/firmward/firmward"
)

// TaskList answers GET /api/v1/tasks.
type TaskList struct {
	Tasks      []*firmward.Task `json:"tasks"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

// TaskAssignRequest is the body of POST /api/v1/tasks/{id}/assign.
type TaskAssignRequest struct {
	Assignee string     `json:"assignee"`
	DueAt    *time.Time `json:"due_at,omitempty"`
}

// TaskCloseRequest is the body of POST /api/v1/tasks/{id}/close.
type TaskCloseRequest struct {
	Note string `json:"note,omitempty"`
}

const cursorTasks = 't'

var listTaskParams = append([]param{
	{name: "campaign", desc: "Only tasks of this campaign.", schema: map[string]any{"type": "integer"}},
	{name: "device", desc: "Only tasks of this device.", schema: map[string]any{"type": "integer"}},
	stringParam("assignee", "Only tasks assigned to this person, exactly."),
	enumParamDoc("status", "Only tasks in this status.", []firmward.TaskStatus{firmward.TaskOpen, firmward.TaskClosed, firmward.TaskCanceled}),
}, pageParams...)

func (s *Server) handleListTasks(w http.ResponseWriter, r *http.Request) {
	if !s.campaignsReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(listTaskParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := firmward.TaskFilter{Assignee: q.get("assignee")}
	for name, dst := range map[string]*int64{"campaign": &f.CampaignID, "device": &f.DeviceID} {
		if v := q.get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				s.writeError(w, r, paramError(name, v, "must be a positive whole number"))
				return
			}
			*dst = n
		}
	}
	if f.Status, err = enumParam(q, "status", []firmward.TaskStatus{firmward.TaskOpen, firmward.TaskClosed, firmward.TaskCanceled}); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.After, err = cursorParam(q, cursorTasks); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next, err := s.tasks.FindTasks(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := TaskList{Tasks: list}
	if next != 0 {
		out.NextCursor = encodeCursor(cursorTasks, next)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleAssignTask(w http.ResponseWriter, r *http.Request) {
	if !s.campaignsReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "task")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req TaskAssignRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.tasks.AssignTask(r.Context(), id, req.Assignee, req.DueAt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, t)
}

func (s *Server) handleCloseTask(w http.ResponseWriter, r *http.Request) {
	if !s.campaignsReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "task")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req TaskCloseRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	t, err := s.tasks.CloseTask(r.Context(), id, req.Note)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, t)
}
