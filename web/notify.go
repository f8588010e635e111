package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
)

// The notification settings page (/settings/notify, issue 7): channels
// (admins add and remove them; secrets are write-only), recipients and
// their preferences (operators), a test button, and the recent deliveries.

// notifyView is the data of the notification settings page.
type notifyView struct {
	Channels   []*firmward.NotifyChannel
	Recipients []*firmward.NotifyRecipient
	Deliveries []*firmward.NotifyDelivery
	ChannelOf  map[int64]string
	Kinds      []string
	Severities []firmward.Severity
	Types      []firmward.ChannelType
	SMTPModes  []string
	IsAdmin    bool
	CanTest    bool
}

func (h *Handler) notifyOn(w http.ResponseWriter, r *http.Request, s *session) bool {
	if h.notify == nil {
		h.errorPage(w, r, s, http.StatusNotFound, "Not available", "Notifications are not configured on this server.")
		return false
	}
	return true
}

func (h *Handler) notifyPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.notifyOn(w, r, s) {
		return
	}
	ctx := r.Context()
	chs, err := h.notify.FindChannels(ctx)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	rs, err := h.notify.FindRecipients(ctx)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	ds, _, err := h.notify.FindDeliveries(ctx, firmward.NotifyDeliveryFilter{Limit: 20})
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	v := notifyView{
		Channels: chs, Recipients: rs, Deliveries: ds, ChannelOf: map[int64]string{},
		Kinds: firmward.NotifyKinds, Severities: firmward.Severities, Types: firmward.ChannelTypes, SMTPModes: firmward.SMTPModes,
		IsAdmin: s.token.Role.Includes(firmward.RoleAdmin), CanTest: h.notifyTester != nil,
	}
	for _, c := range chs {
		v.ChannelOf[c.ID] = c.Name
	}
	h.render(w, r, s, http.StatusOK, "notify", view{Title: "Notifications", Nav: "notify", Page: v})
}

// notifyRefused shows why a change was refused, field by field.
func (h *Handler) notifyRefused(w http.ResponseWriter, r *http.Request, s *session, heading string, err error) {
	switch firmward.ErrorCode(err) {
	case firmward.EINVALID, firmward.ENOTFOUND, firmward.ECONFLICT:
		var reasons []string
		for _, d := range firmward.ErrorDetails(err) {
			reasons = append(reasons, d.Field+": "+d.Reason)
		}
		if len(reasons) == 0 {
			reasons = append(reasons, firmward.ErrorMessage(err))
		}
		h.errorPage(w, r, s, http.StatusUnprocessableEntity, heading, sentence(strings.Join(reasons, "; "))+". Go back and try again.")
	default:
		h.serviceError(w, r, s, fmt.Errorf("%s: %w", strings.ToLower(heading), err))
	}
}

func formID(r *http.Request, name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue(name)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// addChannel adds a channel (admins).
func (h *Handler) addChannel(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.notifyOn(w, r, s) {
		return
	}
	port, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue("smtp_port")))
	ch := &firmward.NotifyChannel{
		Name: r.PostFormValue("name"), Type: firmward.ChannelType(r.PostFormValue("type")), Enabled: true,
		SMTPHost: r.PostFormValue("smtp_host"), SMTPPort: port, SMTPUser: r.PostFormValue("smtp_user"),
		SMTPMode: r.PostFormValue("smtp_mode"), From: r.PostFormValue("from"),
		URL: r.PostFormValue("url"), Topic: r.PostFormValue("topic"), Secret: r.PostFormValue("secret"),
	}
	if err := h.notify.CreateChannel(r.Context(), ch); err != nil {
		h.notifyRefused(w, r, s, "Channel not added", err)
		return
	}
	h.flash(w, fmt.Sprintf("Channel %q added. Send a test message to check it.", ch.Name))
	http.Redirect(w, r, "/settings/notify#channels", http.StatusSeeOther)
}

// channelAction enables, disables or removes a channel (admins).
func (h *Handler) channelAction(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.notifyOn(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	ctx := r.Context()
	var msg string
	switch r.PathValue("verb") {
	case "delete":
		err, msg = h.notify.DeleteChannel(ctx, id), "Channel removed."
	case "enable", "disable":
		var ch *firmward.NotifyChannel
		if ch, err = h.notify.FindChannelByID(ctx, id); err == nil {
			ch.Enabled = r.PathValue("verb") == "enable"
			err, msg = h.notify.UpdateChannel(ctx, ch), fmt.Sprintf("Channel %q %sd.", ch.Name, r.PathValue("verb"))
		}
	default:
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.notifyRefused(w, r, s, "Channel not changed", err)
		return
	}
	h.flash(w, msg)
	http.Redirect(w, r, "/settings/notify#channels", http.StatusSeeOther)
}

// addRecipient adds a recipient with its preferences (operators).
func (h *Handler) addRecipient(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.notifyOn(w, r, s) {
		return
	}
	hour, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("digest_hour")))
	if err != nil {
		hour = firmward.DefaultDigestHour
	}
	rc := &firmward.NotifyRecipient{
		Name: r.PostFormValue("name"), ChannelID: formID(r, "channel_id"), Address: r.PostFormValue("address"),
		Kinds: r.PostForm["kinds"], MinSeverity: firmward.Severity(r.PostFormValue("min_severity")), Mode: r.PostFormValue("mode"),
		DigestHour: hour, QuietStart: r.PostFormValue("quiet_start"), QuietEnd: r.PostFormValue("quiet_end"),
		TimeZone: r.PostFormValue("time_zone"), Enabled: true,
	}
	if err := h.notify.CreateRecipient(r.Context(), rc); err != nil {
		h.notifyRefused(w, r, s, "Recipient not added", err)
		return
	}
	h.flash(w, fmt.Sprintf("Recipient %q added.", rc.Name))
	http.Redirect(w, r, "/settings/notify#recipients", http.StatusSeeOther)
}

// deleteRecipient removes a recipient (operators).
func (h *Handler) deleteRecipient(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.notifyOn(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	if err := h.notify.DeleteRecipient(r.Context(), id); err != nil {
		h.notifyRefused(w, r, s, "Recipient not removed", err)
		return
	}
	h.flash(w, "Recipient removed.")
	http.Redirect(w, r, "/settings/notify#recipients", http.StatusSeeOther)
}

// testChannel sends a test message now and says what happened.
func (h *Handler) testChannel(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.notifyOn(w, r, s) {
		return
	}
	if h.notifyTester == nil {
		h.errorPage(w, r, s, http.StatusNotFound, "Not available", "This server does not send notifications.")
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	d, err := h.notifyTester.SendTest(r.Context(), id, r.PostFormValue("address"))
	if err != nil {
		h.notifyRefused(w, r, s, "Test not sent", err)
		return
	}
	switch d.Status {
	case firmward.DeliverySent:
		h.flash(w, "Test message sent.")
	case firmward.DeliveryFailed:
		h.flash(w, "The test message failed: "+d.LastError)
	default:
		h.flash(w, "The test message is queued.")
	}
	http.Redirect(w, r, "/settings/notify#deliveries", http.StatusSeeOther)
}
