package firmward

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Audit actions recorded by the inventory and auth services.
const (
	ActionDeviceCreate = "device.create"
	ActionDeviceUpdate = "device.update"
	ActionDeviceDelete = "device.delete"
	ActionDeviceImport = "device.import" // one event per imported device
	ActionTokenCreate  = "token.create"
	ActionTokenRevoke  = "token.revoke"
	ActionSessionStart = "session.start"
	ActionSessionEnd   = "session.end"
)

// FieldChange is one changed field: Old and New are the values as text
// ("" for none; lists joined with ", ").
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// AuditEvent is one change, in a hash chain: Hash covers every other field
// and PrevHash, the Hash of the event before (Seq-1); the first event's
// PrevHash is GenesisHash. Editing, deleting or reordering stored events
// breaks the chain, and VerifyAudit reports the first broken link.
//
// Time is UTC, truncated to microseconds so that it survives every database.
type AuditEvent struct {
	Seq        int64         `json:"seq"`
	Time       time.Time     `json:"time"`
	Actor      string        `json:"actor"`
	Action     string        `json:"action"`
	ObjectType string        `json:"object_type"`
	ObjectID   string        `json:"object_id"`
	Changes    []FieldChange `json:"changes"`
	PrevHash   string        `json:"prev_hash"`
	Hash       string        `json:"hash"`
}

// GenesisHash is the PrevHash of the first audit event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ComputeHash returns the hex SHA-256 over a canonical encoding of every
// field of e but Hash.
func (e *AuditEvent) ComputeHash() string {
	h := sha256.New()
	write := func(s string) {
		// Length-prefixed, so that no two different events encode alike.
		_, _ = fmt.Fprintf(h, "%d:%s;", len(s), s) // hash.Hash writes never fail
	}
	write(strconv.FormatInt(e.Seq, 10))
	write(e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"))
	write(e.Actor)
	write(e.Action)
	write(e.ObjectType)
	write(e.ObjectID)
	write(strconv.Itoa(len(e.Changes)))
	for _, c := range e.Changes {
		write(c.Field)
		write(c.Old)
		write(c.New)
	}
	write(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal sets e.Seq, e.PrevHash and e.Hash as the successor of prev (nil for
// the first event) and truncates e.Time to microseconds.
func (e *AuditEvent) Seal(prevSeq int64, prevHash string) {
	if prevHash == "" {
		prevHash = GenesisHash
	}
	e.Seq = prevSeq + 1
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	e.PrevHash = prevHash
	e.Hash = e.ComputeHash()
}

// AuditChain checks events one by one, in stored order. The zero value
// expects the first event of a chain.
type AuditChain struct {
	prevSeq  int64
	prevHash string
	checked  int64
}

// Check verifies that e follows the events checked before and that its hash
// is intact; the error says which link is broken and how.
func (c *AuditChain) Check(e *AuditEvent) error {
	wantPrev := c.prevHash
	if wantPrev == "" {
		wantPrev = GenesisHash
	}
	switch {
	case e.Seq != c.prevSeq+1:
		return fmt.Errorf("event %d: expected seq %d after %d (an event was deleted or reordered)", e.Seq, c.prevSeq+1, c.prevSeq)
	case e.PrevHash != wantPrev:
		return fmt.Errorf("event %d: prev_hash does not match the hash of event %d (an event was deleted, inserted or reordered)", e.Seq, c.prevSeq)
	case e.ComputeHash() != e.Hash:
		return fmt.Errorf("event %d: content does not match its hash (the event was edited)", e.Seq)
	}
	c.prevSeq, c.prevHash = e.Seq, e.Hash
	c.checked++
	return nil
}

// Checked returns how many events passed.
func (c *AuditChain) Checked() int64 { return c.checked }

// Last returns the seq and hash of the last event that passed.
func (c *AuditChain) Last() (int64, string) { return c.prevSeq, c.prevHash }

// AuditFilter selects audit events; results are ordered by Seq, descending
// when Newest is set. After is a cursor on Seq (exclusive; with Newest,
// events below it).
type AuditFilter struct {
	ObjectType string
	ObjectID   string
	Action     string
	Actor      string
	After      int64
	Newest     bool
	Limit      int
}

// AuditReport is the result of verifying the whole chain. When OK is false,
// BrokenSeq is the first bad link and Reason says what is wrong with it.
type AuditReport struct {
	OK        bool   `json:"ok"`
	Checked   int64  `json:"checked"`
	BrokenSeq int64  `json:"broken_seq,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// AuditService reads and verifies the audit trail. Events are written by the
// other services, in the same transaction as the change they record.
type AuditService interface {
	// FindAuditEvents returns one page of events and the next cursor.
	FindAuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, int64, error)
	// RecordAudit appends an event that is not part of another change
	// (a sign-in, say). Seq, hashes and, when zero, Time and Actor are set.
	RecordAudit(ctx context.Context, e *AuditEvent) error
	// VerifyAudit checks the whole chain, including that its last event is
	// the one recorded as the head.
	VerifyAudit(ctx context.Context) (*AuditReport, error)
}

// DiffDevices lists the fields that differ between old and new, by their
// JSON names, ignoring ID and the timestamps the store keeps (created_at,
// updated_at). A nil old lists every non-empty field of new (a creation); a
// nil new lists every non-empty field of old (a deletion).
func DiffDevices(old, new *Device) []FieldChange {
	var zero Device
	if old == nil {
		old = &zero
	}
	if new == nil {
		new = &zero
	}
	ov, nv := reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem()
	t := ov.Type()
	var out []FieldChange
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		switch name {
		case "id", "created_at", "updated_at", "-", "":
			continue
		}
		o, n := fieldText(ov.Field(i)), fieldText(nv.Field(i))
		if o != n {
			out = append(out, FieldChange{Field: name, Old: o, New: n})
		}
	}
	return out
}

// fieldText formats a Device field for the audit trail.
func fieldText(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Float64:
		if v.Float() == 0 {
			return ""
		}
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = v.Index(i).String()
		}
		return strings.Join(parts, ", ")
	case reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		if t, ok := v.Interface().(*time.Time); ok {
			return t.UTC().Format(time.RFC3339)
		}
		return fieldText(v.Elem())
	}
	b, _ := json.Marshal(v.Interface())
	return string(b)
}
