package firmward

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	ActionFeedImport   = "feed.import"    // one event per imported feed file
	ActionFindingSync  = "finding.sync"   // matching changed a device's findings: one event per device, listing CVEs opened, fixed, reopened
	ActionFindingSet   = "finding.update" // a person changed status, note, acceptance or VEX
	// ActionDeviceCPEConfirm: a person confirmed, chose or overrode the
	// CPE name firmward proposed for a device, or cleared it (details say
	// which, and the confidence proposed).
	ActionDeviceCPEConfirm = "device.cpe_confirm"
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
// field of e but Hash: each value length-prefixed ("len:value;"), so that no
// two different events encode alike.
func (e *AuditEvent) ComputeHash() string {
	size := 128 + len(e.Actor) + len(e.Action) + len(e.ObjectType) + len(e.ObjectID) + len(e.PrevHash)
	for _, c := range e.Changes {
		size += 24 + len(c.Field) + len(c.Old) + len(c.New)
	}
	b := make([]byte, 0, size)
	str := func(v string) {
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
		b = append(b, ';')
	}
	var scratch [32]byte
	str(string(strconv.AppendInt(scratch[:0], e.Seq, 10)))
	str(string(e.Time.UTC().AppendFormat(scratch[:0], "2006-01-02T15:04:05.000000Z")))
	str(e.Actor)
	str(e.Action)
	str(e.ObjectType)
	str(e.ObjectID)
	str(strconv.Itoa(len(e.Changes)))
	for _, c := range e.Changes {
		str(c.Field)
		str(c.Old)
		str(c.New)
	}
	str(e.PrevHash)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
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
// JSON names in field order, ignoring ID and the timestamps the store keeps
// (created_at, updated_at). A nil old lists every non-empty field of new (a
// creation); a nil new lists every non-empty field of old (a deletion).
// Values are text: lists joined with ", ", times in RFC 3339, a zero
// replacement cost as "".
func DiffDevices(old, new *Device) []FieldChange {
	var o, n [deviceTextFields]string
	if old != nil {
		old.texts(&o)
	}
	if new != nil {
		new.texts(&n)
	}
	var out []FieldChange
	for i := range o {
		if o[i] != n[i] {
			if out == nil {
				out = make([]FieldChange, 0, deviceTextFields)
			}
			out = append(out, FieldChange{Field: deviceFieldNames[i], Old: o[i], New: n[i]})
		}
	}
	return out
}

// deviceFieldNames are the JSON names of the Device fields the audit trail
// records, in struct order; texts fills their values in the same order.
// A test checks that every other JSON field of Device is deliberately left
// out.
var deviceFieldNames = [...]string{
	"name", "manufacturer", "model", "hardware_version", "firmware_version", "serial",
	"category", "criticality", "exposure", "update_mechanism", "auto_update", "macs", "ips",
	"site", "location", "owner", "segment", "cpe", "eol_date", "purchase_date",
	"replacement_cost", "notes", "tags", "source", "first_seen", "last_seen",
}

const deviceTextFields = len(deviceFieldNames)

func (d *Device) texts(t *[deviceTextFields]string) {
	timeText := func(p *time.Time) string {
		if p == nil {
			return ""
		}
		return p.UTC().Format(time.RFC3339)
	}
	cost := ""
	if d.ReplacementCost != 0 {
		cost = strconv.FormatFloat(d.ReplacementCost, 'f', -1, 64)
	}
	*t = [deviceTextFields]string{
		d.Name, d.Manufacturer, d.Model, d.HardwareVersion, d.FirmwareVersion, d.Serial,
		string(d.Category), string(d.Criticality), string(d.Exposure), string(d.UpdateMechanism),
		string(d.AutoUpdate), strings.Join(d.MACs, ", "), strings.Join(d.IPs, ", "),
		d.Site, d.Location, d.Owner, d.Segment, d.CPE, d.EOLDate, d.PurchaseDate,
		cost, d.Notes, strings.Join(d.Tags, ", "), string(d.Source), timeText(d.FirstSeen), timeText(d.LastSeen),
	}
}
