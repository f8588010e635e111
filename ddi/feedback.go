package ddi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
)

// feedbackBody is a DDI action feedback as clients send it. Older clients
// (SWUpdate 2022) send "id" as a number and a "time"; rauc-hawkbit-updater
// sends "id" as a string; newer ones send "timestamp" and no id. Unknown
// fields are ignored.
type feedbackBody struct {
	ID     json.RawMessage `json:"id"`
	Status *struct {
		Execution string `json:"execution"`
		Result    *struct {
			Finished string `json:"finished"`
			Progress *struct {
				Cnt int `json:"cnt"`
				Of  int `json:"of"`
			} `json:"progress"`
		} `json:"result"`
		Code    *int            `json:"code"`
		Details json.RawMessage `json:"details"`
	} `json:"status"`
}

// truncatedNote ends details cut to fit the feedback limits.
const truncatedNote = "… (details truncated by firmward)"

// parseFeedback decodes a DDI feedback body for action pathID. Every
// problem is an EINVALID *firmward.Error naming the field. Details longer
// than firmward's limits are truncated (a failing client reports its whole
// log there, and losing the result would be worse than losing its tail).
func parseFeedback(body []byte, pathID int64) (*firmward.ActionFeedback, error) {
	var fb feedbackBody
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fb); err != nil {
		return nil, bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, firmward.Errorf(firmward.EINVALID, "feedback has data after the JSON object")
	}
	if id, ok, err := parseID(fb.ID); err != nil {
		return nil, err
	} else if ok && id != pathID {
		return nil, invalid("id", strconv.FormatInt(id, 10), fmt.Sprintf("does not match action %d of the URL", pathID))
	}
	if fb.Status == nil {
		return nil, invalid("status", "", "is required")
	}
	out := &firmward.ActionFeedback{
		Execution: strings.ToLower(strings.TrimSpace(fb.Status.Execution)),
		Finished:  "none",
		Code:      fb.Status.Code,
	}
	if r := fb.Status.Result; r != nil {
		if f := strings.ToLower(strings.TrimSpace(r.Finished)); f != "" {
			out.Finished = f
		}
		if p := r.Progress; p != nil {
			out.ProgressCnt, out.ProgressOf = p.Cnt, p.Of
		}
	}
	details, err := parseDetails(fb.Status.Details)
	if err != nil {
		return nil, err
	}
	out.Details = details
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// parseID reads an action id given as a JSON number or string; ok is false
// when it is absent, null or "".
func parseID(raw json.RawMessage) (id int64, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	var text string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, false, invalid("id", "", "must be a number or a string of digits")
		}
		if text = strings.TrimSpace(text); text == "" {
			return 0, false, nil
		}
	} else {
		text = string(raw)
	}
	id, err = strconv.ParseInt(text, 10, 64)
	if err != nil || id <= 0 {
		return 0, false, invalid("id", text, "must be a positive whole number")
	}
	return id, true, nil
}

// parseDetails accepts an array of strings (the DDI shape) or one string,
// and truncates to the feedback limits.
func parseDetails(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var lines []string
	if raw[0] == '"' {
		var one string
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, invalid("status.details", "", "must be a list of strings")
		}
		lines = []string{one}
	} else if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, invalid("status.details", "", "must be a list of strings")
	}
	out := make([]string, 0, min(len(lines), firmward.MaxFeedbackDetails))
	budget := firmward.MaxFeedbackDetailsLen - len(truncatedNote)
	for i, l := range lines {
		l = strings.ReplaceAll(strings.ToValidUTF8(l, "\uFFFD"), "\x00", "")
		if (len(out) == firmward.MaxFeedbackDetails-1 && i < len(lines)-1) || len(l) > budget {
			out = append(out, truncatedNote)
			break
		}
		budget -= len(l)
		out = append(out, l)
	}
	return out, nil
}

// configDataBody is a DDI configData: the device's attributes and how to
// apply them (merge when absent).
type configDataBody struct {
	Mode string            `json:"mode"`
	Data map[string]string `json:"data"`
}

func parseConfigData(body []byte) (*configDataBody, error) {
	var c configDataBody
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, bodyError(err)
	}
	c.Mode = strings.ToLower(strings.TrimSpace(c.Mode))
	if c.Data == nil {
		return nil, invalid("data", "", "is required (an object of attribute names and values)")
	}
	return &c, nil
}

func invalid(field, value, reason string) error {
	return &firmward.Error{
		Code: firmward.EINVALID, Message: "request body is not valid: " + field + " " + reason,
		Details: []firmward.ErrorDetail{{Field: field, Value: value, Reason: reason}},
	}
}

// bodyError explains a JSON decoding error.
func bodyError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return firmward.Errorf(firmward.EINVALID, "request body is empty; send a JSON object")
	case errors.As(err, &syntax):
		return firmward.Errorf(firmward.EINVALID, "request body is not valid JSON at offset %d", syntax.Offset)
	case errors.As(err, &typ):
		return invalid(typ.Field, "", "has the wrong type ("+typ.Value+")")
	}
	return firmward.Errorf(firmward.EINVALID, "request body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}
