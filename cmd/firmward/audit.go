package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

func runAuditList(ctx context.Context, a *app, args []string) error {
	const name = "audit list"
	q := httpapi.AuditQuery{Newest: true}
	var oldest bool
	fs := newFlags(name)
	fs.StringVar(&q.ObjectType, "object-type", "", "events about this kind of `object`: device, token, session")
	fs.StringVar(&q.ObjectID, "object-id", "", "events about the object with this `ID`")
	fs.StringVar(&q.Action, "action", "", "events of this `action`, such as device.update")
	fs.StringVar(&q.Actor, "actor", "", "events by this `actor`, such as token:1(admin)")
	fs.IntVar(&q.Limit, "limit", firmward.DefaultPageSize, fmt.Sprintf("events to show, 1 to %d", firmward.MaxPageSize))
	fs.StringVar(&q.Cursor, "cursor", "", "continue after this `cursor` (printed at the end of the previous page)")
	fs.BoolVar(&oldest, "oldest", false, "oldest first")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	q.Newest = !oldest
	c, err := a.client()
	if err != nil {
		return err
	}
	events, next, err := c.ListAudit(ctx, q)
	if err != nil {
		return err
	}
	if events == nil {
		events = []*firmward.AuditEvent{}
	}
	if a.json {
		return writeJSON(a.stdout, httpapi.AuditList{Events: events, NextCursor: next})
	}
	t := newTable(a.stdout)
	t.row("SEQ", "TIME", "ACTOR", "ACTION", "OBJECT", "CHANGED")
	for _, e := range events {
		fields := make([]string, len(e.Changes))
		for i, ch := range e.Changes {
			fields[i] = ch.Field
		}
		t.row(strconv.FormatInt(e.Seq, 10), when(&e.Time), cut(e.Actor, 32), e.Action,
			e.ObjectType+" "+e.ObjectID, cut(orDash(strings.Join(fields, ", ")), 60))
	}
	t.flush()
	if next != "" {
		a.eprintf("more with --cursor %s\n", next)
	}
	return nil
}

func runAuditVerify(ctx context.Context, a *app, args []string) error {
	const name = "audit verify"
	if _, err := a.parse(newFlags(name), name, args, true, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	rep, err := c.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if a.json {
		if err := writeJSON(a.stdout, rep); err != nil {
			return err
		}
	} else if rep.OK {
		a.printf("OK: the audit trail is intact (%d events verified)\n", rep.Checked)
	} else {
		a.printf("BROKEN: audit event %d: %s\n", rep.BrokenSeq, rep.Reason)
		a.printf("%d events before it verified. Someone changed the database outside firmward: restore it from a backup and investigate.\n", rep.Checked)
	}
	if !rep.OK {
		return exitError{code: exitFailure}
	}
	return nil
}
