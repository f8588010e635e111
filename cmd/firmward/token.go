package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

func runTokenCreate(ctx context.Context, a *app, args []string) error {
	const name = "token create"
	var tokName, role string
	fs := newFlags(name)
	fs.StringVar(&tokName, "name", "", "a `name` that says who or what uses the token")
	fs.StringVar(&role, "role", string(firmward.RoleViewer), "`role`: "+oneOf(firmward.Roles))
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if strings.TrimSpace(tokName) == "" {
		return usageError{cmd: name, msg: "--name is required"}
	}
	r, err := firmward.ParseRole(role)
	if err != nil {
		return usageError{cmd: name, msg: errorText(err)}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	tok, secret, err := c.CreateToken(ctx, tokName, r)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, httpapi.TokenCreated{Token: tok, Secret: secret})
	}
	a.printf("created token %d %q with role %s\n\n", tok.ID, tok.Name, tok.Role)
	a.printf("  %s\n\n", secret)
	a.printf("This is the only time the secret is shown: store it now (a password manager, a CI secret).\n")
	a.printf("Use it with:  export FIRMWARD_TOKEN=%s\n", secret)
	a.printf("         or:  firmward --token %s device list\n", secret)
	a.printf("Revoke it with: firmward token revoke %d\n", tok.ID)
	return nil
}

func runTokenList(ctx context.Context, a *app, args []string) error {
	const name = "token list"
	if _, err := a.parse(newFlags(name), name, args, true, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	toks, err := c.ListTokens(ctx)
	if err != nil {
		return err
	}
	if toks == nil {
		toks = []*firmward.Token{}
	}
	if a.json {
		return writeJSON(a.stdout, httpapi.TokenList{Tokens: toks})
	}
	t := newTable(a.stdout)
	t.row("ID", "NAME", "ROLE", "PREFIX", "CREATED BY", "CREATED", "LAST USED", "STATUS")
	for _, tok := range toks {
		status := "active"
		if tok.RevokedAt != nil {
			status = "revoked " + when(tok.RevokedAt)
		}
		t.row(strconv.FormatInt(tok.ID, 10), cut(tok.Name, 32), string(tok.Role), tok.Prefix+"…", cut(orDash(tok.CreatedBy), 32),
			when(&tok.CreatedAt), when(tok.LastUsedAt), status)
	}
	t.flush()
	return nil
}

func runTokenRevoke(ctx context.Context, a *app, args []string) error {
	const name = "token revoke"
	pos, err := a.parse(newFlags(name), name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := parseID(name, pos[0], "token")
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if err := c.RevokeToken(ctx, id); err != nil {
		if firmward.ErrorCode(err) == firmward.ENOTFOUND {
			return withHint(err, "`firmward token list` shows the tokens and their IDs.")
		}
		return err
	}
	if a.json {
		return writeJSON(a.stdout, map[string]any{"revoked": id})
	}
	a.printf("revoked token %d: it no longer works\n", id)
	return nil
}
