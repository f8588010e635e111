package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/firmward/firmward"
)

// ListChannels returns every notification channel (secrets never come
// back: HasSecret says whether one is set).
func (c *Client) ListChannels(ctx context.Context) ([]*firmward.NotifyChannel, error) {
	var out NotifyChannelList
	if err := c.call(ctx, http.MethodGet, "/api/v1/notify/channels", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Channels, nil
}

// CreateChannel adds a notification channel and returns it as stored.
func (c *Client) CreateChannel(ctx context.Context, ch *firmward.NotifyChannel) (*firmward.NotifyChannel, error) {
	var out firmward.NotifyChannel
	if err := c.call(ctx, http.MethodPost, "/api/v1/notify/channels", nil, ch, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateChannel replaces the settings of channel ch.ID.
func (c *Client) UpdateChannel(ctx context.Context, ch *firmward.NotifyChannel) (*firmward.NotifyChannel, error) {
	var out firmward.NotifyChannel
	if err := c.call(ctx, http.MethodPut, "/api/v1/notify/channels/"+strconv.FormatInt(ch.ID, 10), nil, ch, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteChannel removes a channel and its recipients.
func (c *Client) DeleteChannel(ctx context.Context, id int64) error {
	return c.call(ctx, http.MethodDelete, "/api/v1/notify/channels/"+strconv.FormatInt(id, 10), nil, nil, nil)
}

// ListRecipients returns every recipient and its preferences.
func (c *Client) ListRecipients(ctx context.Context) ([]*firmward.NotifyRecipient, error) {
	var out NotifyRecipientList
	if err := c.call(ctx, http.MethodGet, "/api/v1/notify/recipients", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Recipients, nil
}

// CreateRecipient adds a recipient and returns it as stored.
func (c *Client) CreateRecipient(ctx context.Context, r *firmward.NotifyRecipient) (*firmward.NotifyRecipient, error) {
	var out firmward.NotifyRecipient
	if err := c.call(ctx, http.MethodPost, "/api/v1/notify/recipients", nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateRecipient replaces the preferences of recipient r.ID.
func (c *Client) UpdateRecipient(ctx context.Context, r *firmward.NotifyRecipient) (*firmward.NotifyRecipient, error) {
	var out firmward.NotifyRecipient
	if err := c.call(ctx, http.MethodPut, "/api/v1/notify/recipients/"+strconv.FormatInt(r.ID, 10), nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteRecipient removes a recipient.
func (c *Client) DeleteRecipient(ctx context.Context, id int64) error {
	return c.call(ctx, http.MethodDelete, "/api/v1/notify/recipients/"+strconv.FormatInt(id, 10), nil, nil, nil)
}

// ListDeliveries returns one page of the delivery log, newest first, and
// the cursor of the next page ("" at the end).
func (c *Client) ListDeliveries(ctx context.Context, status string, channelID int64, cursor string, limit int) ([]*firmward.NotifyDelivery, string, error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if channelID > 0 {
		q.Set("channel", strconv.FormatInt(channelID, 10))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out NotifyDeliveryList
	if err := c.call(ctx, http.MethodGet, "/api/v1/notify/deliveries", q, nil, &out); err != nil {
		return nil, "", err
	}
	return out.Deliveries, out.NextCursor, nil
}

// GetDelivery returns one delivery and its attempts.
func (c *Client) GetDelivery(ctx context.Context, id int64) (*NotifyDeliveryDetail, error) {
	var out NotifyDeliveryDetail
	if err := c.call(ctx, http.MethodGet, "/api/v1/notify/deliveries/"+strconv.FormatInt(id, 10), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SendTestNotification sends a test message through a channel now and
// returns the recorded delivery (sent, or failed with its error).
func (c *Client) SendTestNotification(ctx context.Context, channelID int64, address string) (*firmward.NotifyDelivery, error) {
	var out firmward.NotifyDelivery
	if err := c.call(ctx, http.MethodPost, "/api/v1/notify/test", nil, NotifyTestRequest{ChannelID: channelID, Address: address}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
