package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/authgate/gateway/store"
)

// usersGroups shows or changes a user's groups:
//
//	gateway users groups NAME                 list them
//	gateway users groups NAME add|remove G…   change them
//
// A change reaches every replica through the same feed as a role change;
// the user's activity and the audit log record it.
func (e *env) usersGroups(ctx context.Context, st *store.Store, args []string) error {
	const usage = "usage: gateway users groups NAME [add|remove GROUP...]"
	if len(args) == 0 || len(args) == 2 {
		return errors.New(usage)
	}
	u, err := st.FindUserByName(ctx, args[0])
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q", args[0])
	}
	if err != nil {
		return err
	}
	if len(args) == 1 {
		for _, g := range u.Groups {
			fmt.Fprintln(e.stdout, g)
		}
		return nil
	}
	verb, names := args[1], args[2:]
	groups := u.Groups
	var changed []string
	for _, name := range names {
		var next []string
		switch verb {
		case "add":
			if next, err = store.WithGroup(groups, name); err != nil {
				return err
			}
		case "remove":
			var found bool
			if next, found = store.WithoutGroup(groups, name); !found {
				return fmt.Errorf("user %s is not in group %q", u.Username, store.CanonicalGroup(name))
			}
		default:
			return errors.New(usage)
		}
		if len(next) != len(groups) {
			changed = append(changed, store.CanonicalGroup(name))
		}
		groups = next
	}
	if len(changed) == 0 {
		fmt.Fprintf(e.stdout, "user %s: groups unchanged (%s)\n", u.Username, listOrNone(groups))
		return nil
	}
	if err := st.UpdateUser(ctx, u.ID, store.UserUpdate{Groups: &groups}); err != nil {
		return err
	}
	what := "added to"
	if verb == "remove" {
		what = "removed from"
	}
	detail := "groups " + listOrNone(u.Groups) + " → " + listOrNone(groups)
	_ = st.AppendAudit(ctx, store.AuditEntry{Actor: "operator", Action: store.AuditGroupsChange,
		Target: u.Username, TargetID: u.ID, Reason: "command line", Detail: detail})
	_ = st.AppendEvent(ctx, u.ID, store.Event{Type: store.EventStaffAction, Actor: "operator",
		Detail: what + " group " + strings.Join(changed, ", ") + " by an operator (command line)"})
	fmt.Fprintf(e.stdout, "user %s %s %s; groups now: %s\n", u.Username, what, strings.Join(changed, ", "), listOrNone(groups))
	return nil
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, ", ")
}
