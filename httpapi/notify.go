package httpapi

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/firmward/firmward"
)

// Notification routes (issue 7, requirement 2): channels, recipients and
// their preferences, the delivery log and test messages. Channel secrets
// are write-only: responses carry has_secret, never the secret.

// NotifyChannelList is every notification channel, by name.
type NotifyChannelList struct {
	Channels []*firmward.NotifyChannel `json:"channels"`
}

// NotifyRecipientList is every recipient, by name.
type NotifyRecipientList struct {
	Recipients []*firmward.NotifyRecipient `json:"recipients"`
}

// NotifyDeliveryList is one page of deliveries, newest first.
type NotifyDeliveryList struct {
	Deliveries []*firmward.NotifyDelivery `json:"deliveries"`
	NextCursor string                     `json:"next_cursor"`
}

// NotifyDeliveryDetail is one delivery and every attempt at sending it.
type NotifyDeliveryDetail struct {
	Delivery *firmward.NotifyDelivery  `json:"delivery"`
	Attempts []*firmward.NotifyAttempt `json:"attempts"`
}

// NotifyTestRequest asks for a test message through one channel; Address
// is the e-mail recipient of an e-mail channel.
type NotifyTestRequest struct {
	ChannelID int64  `json:"channel_id"`
	Address   string `json:"address,omitempty"`
}

const cursorDeliveries = 'y'

var listDeliveryParams = slices.Concat([]param{
	enumParamDoc("status", "Only deliveries in this state.", firmward.DeliveryStatuses),
	{name: "channel", desc: "Only deliveries through this channel (its id).", schema: map[string]any{"type": "integer", "format": "int64", "minimum": 1}},
	{name: "alert", desc: "Only deliveries of this alert (its id).", schema: map[string]any{"type": "integer", "format": "int64", "minimum": 1}},
}, pageParams)

// notifyReady answers 404 when the server has no notification store.
func (s *Server) notifyReady(w http.ResponseWriter, r *http.Request) bool {
	if s.notify == nil {
		s.writeError(w, r, firmward.Errorf(firmward.ENOTFOUND, "notifications are not configured on this server"))
		return false
	}
	return true
}

func (s *Server) handleListChannels(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	list, err := s.notify.FindChannels(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*firmward.NotifyChannel{}
	}
	s.writeJSON(w, r, http.StatusOK, NotifyChannelList{Channels: list})
}

func (s *Server) handleGetChannel(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "notification channel")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ch, err := s.notify.FindChannelByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, ch)
}

func (s *Server) handleCreateChannel(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	var ch firmward.NotifyChannel
	if err := decodeJSON(w, r, &ch); err != nil {
		s.writeError(w, r, err)
		return
	}
	ch.ID = 0
	if err := s.notify.CreateChannel(r.Context(), &ch); err != nil {
		s.writeError(w, r, err)
		return
	}
	ch.Secret = ""
	s.writeJSON(w, r, http.StatusCreated, &ch)
}

func (s *Server) handleUpdateChannel(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "notification channel")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var ch firmward.NotifyChannel
	if err := decodeJSON(w, r, &ch); err != nil {
		s.writeError(w, r, err)
		return
	}
	ch.ID = id
	if err := s.notify.UpdateChannel(r.Context(), &ch); err != nil {
		s.writeError(w, r, err)
		return
	}
	ch.Secret = ""
	s.writeJSON(w, r, http.StatusOK, &ch)
}

func (s *Server) handleDeleteChannel(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "notification channel")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.notify.DeleteChannel(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListRecipients(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	list, err := s.notify.FindRecipients(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*firmward.NotifyRecipient{}
	}
	s.writeJSON(w, r, http.StatusOK, NotifyRecipientList{Recipients: list})
}

func (s *Server) handleCreateRecipient(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	var rc firmward.NotifyRecipient
	if err := decodeJSON(w, r, &rc); err != nil {
		s.writeError(w, r, err)
		return
	}
	rc.ID = 0
	if err := s.notify.CreateRecipient(r.Context(), &rc); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, &rc)
}

func (s *Server) handleUpdateRecipient(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "notification recipient")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var rc firmward.NotifyRecipient
	if err := decodeJSON(w, r, &rc); err != nil {
		s.writeError(w, r, err)
		return
	}
	rc.ID = id
	if err := s.notify.UpdateRecipient(r.Context(), &rc); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, &rc)
}

func (s *Server) handleDeleteRecipient(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "notification recipient")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.notify.DeleteRecipient(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// idQuery reads an optional positive id parameter.
func idQuery(q query, name string) (int64, error) {
	raw := q.get(name)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 1 {
		return 0, paramError(name, raw, "must be a positive whole number (an id)")
	}
	return n, nil
}

func (s *Server) handleListDeliveries(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(listDeliveryParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var f firmward.NotifyDeliveryFilter
	if f.Status, err = enumParam(q, "status", firmward.DeliveryStatuses); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.ChannelID, err = idQuery(q, "channel"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.AlertID, err = idQuery(q, "alert"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.After, err = cursorParam(q, cursorDeliveries); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next, err := s.notify.FindDeliveries(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*firmward.NotifyDelivery{}
	}
	s.writeJSON(w, r, http.StatusOK, NotifyDeliveryList{Deliveries: list, NextCursor: encodeCursor(cursorDeliveries, next)})
}

func (s *Server) handleGetDelivery(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "delivery")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.notify.FindDeliveryByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	at, err := s.notify.FindAttempts(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if at == nil {
		at = []*firmward.NotifyAttempt{}
	}
	s.writeJSON(w, r, http.StatusOK, NotifyDeliveryDetail{Delivery: d, Attempts: at})
}

func (s *Server) handleNotifyTest(w http.ResponseWriter, r *http.Request) {
	if !s.notifyReady(w, r) {
		return
	}
	if s.notifyTester == nil {
		s.writeError(w, r, firmward.Errorf(firmward.ENOTFOUND, "this server does not send notifications"))
		return
	}
	var req NotifyTestRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.ChannelID <= 0 {
		s.writeError(w, r, &firmward.Error{
			Code: firmward.EINVALID, Message: "invalid test request",
			Details: []firmward.ErrorDetail{{Field: "channel_id", Reason: "is required"}},
		})
		return
	}
	d, err := s.notifyTester.SendTest(r.Context(), req.ChannelID, req.Address)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, d)
}
