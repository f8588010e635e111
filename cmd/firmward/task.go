package main

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

// taskCommands are the commands of the manual tasks campaigns create.
func taskCommands() []command {
	return []command{
		{
			name: "task list", args: "[--campaign ID] [--device ID] [--assignee A] [--status open|closed|canceled]",
			summary: "list the manual tasks of campaigns",
			help:    "List tasks: devices firmward cannot push to, with where to log in, what to install and what to check.",
			run:     runTaskList,
		},
		{
			name: "task assign", args: "ID --to A [--due YYYY-MM-DD]", summary: "assign a task",
			help: "Give a task to someone, optionally with a new due date.", run: runTaskAssign,
		},
		{
			name: "task close", args: "ID [--note TEXT]", summary: "close a task",
			help: "Close a task. An update task closes only once firmward sees the device at the target version (agent,\n" +
				"scan or 'firmward device edit ID --firmware-version V'); the campaign runner closes it by itself then.\n" +
				"An isolate task needs a --note saying what was done.",
			run: runTaskClose,
		},
	}
}

func runTaskList(ctx context.Context, a *app, args []string) error {
	const name = "task list"
	var f firmward.TaskFilter
	var status string
	fs := newFlags(name)
	fs.Int64Var(&f.CampaignID, "campaign", 0, "only tasks of this campaign `ID`")
	fs.Int64Var(&f.DeviceID, "device", 0, "only tasks of this device `ID`")
	fs.StringVar(&f.Assignee, "assignee", "", "only tasks of this `person`")
	fs.StringVar(&status, "status", "", "only tasks in this `status`: open, closed, canceled")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	f.Status = firmward.TaskStatus(status)
	c, err := a.client()
	if err != nil {
		return err
	}
	var all []*firmward.Task
	for cursor := ""; ; {
		page, next, err := c.ListTasks(ctx, f, cursor)
		if err != nil {
			return err
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if a.json {
		if all == nil {
			all = []*firmward.Task{}
		}
		return writeJSON(a.stdout, httpapi.TaskList{Tasks: all})
	}
	for _, t := range all {
		a.printf("task %d [%s, %s] %s\n", t.ID, t.Kind, t.Status, t.Title)
		a.printf("  device %d, campaign %d, assignee %s, due %s\n", t.DeviceID, t.CampaignID, orDash(t.Assignee), t.DueAt.Format(time.DateOnly))
		for _, line := range t.Instructions {
			a.printf("  - %s\n", line)
		}
		if t.Status != firmward.TaskOpen {
			a.printf("  %s %s by %s %s\n", t.Status, when(t.ClosedAt), t.ClosedBy, strings.TrimSpace(t.CloseNote+" "+t.ObservedVersion))
		}
	}
	if len(all) == 0 {
		a.printf("no tasks\n")
	}
	return nil
}

func runTaskAssign(ctx context.Context, a *app, args []string) error {
	const name = "task assign"
	var to, due string
	fs := newFlags(name)
	fs.StringVar(&to, "to", "", "the `person` who does it")
	fs.StringVar(&due, "due", "", "new due `date` (YYYY-MM-DD)")
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := parseID(name, pos[0], "task")
	if err != nil {
		return err
	}
	if strings.TrimSpace(to) == "" {
		return usageError{cmd: name, msg: "--to is required"}
	}
	req := httpapi.TaskAssignRequest{Assignee: to}
	if due != "" {
		d, err := time.Parse(time.DateOnly, due)
		if err != nil {
			return usageError{cmd: name, msg: "--due " + strconv.Quote(due) + " is not a date YYYY-MM-DD"}
		}
		req.DueAt = &d
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	t, err := c.AssignTask(ctx, id, req)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, t)
	}
	a.printf("task %d assigned to %s, due %s\n", t.ID, t.Assignee, t.DueAt.Format(time.DateOnly))
	return nil
}

func runTaskClose(ctx context.Context, a *app, args []string) error {
	const name = "task close"
	var note string
	fs := newFlags(name)
	fs.StringVar(&note, "note", "", "what was done")
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := parseID(name, pos[0], "task")
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	t, err := c.CloseTask(ctx, id, note)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, t)
	}
	a.printf("task %d closed\n", t.ID)
	return nil
}
