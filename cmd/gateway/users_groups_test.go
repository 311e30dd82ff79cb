package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// groupsHeaderWithin polls until the upstream receives want as
// X-Forwarded-Groups for c (a change made by the command line reaches the
// running gateway through the feed, not at once).
func groupsHeaderWithin(t *testing.T, c *harness.Client, want string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		e, resp := c.Echo(t, "/app")
		if e == nil {
			t.Fatalf("/app: %d", resp.StatusCode)
		}
		got := e.Header.Get("X-Forwarded-Groups")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("X-Forwarded-Groups = %q, want %q", got, want)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

func TestUsersGroupsCommand(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	env := []string{"GATEWAY_REDIS_URL=" + g.Redis.URL()}
	g.CreateUser(t, "gina")
	c := g.NewClient(t)
	c.Login(t, "gina", harness.TestPassword)
	groupsHeaderWithin(t, c, "user")

	out, _, err := cli(t, env, "", "users", "groups", "gina", "add", "Eng", "ops:oncall")
	if err != nil || !strings.Contains(out, "groups now: eng, ops:oncall") {
		t.Fatalf("users groups add: %v %q", err, out)
	}
	// The signed-in session carries the new groups on its next requests,
	// roles first as before groups existed.
	groupsHeaderWithin(t, c, "user,eng,ops:oncall")

	if out, _, err := cli(t, env, "", "users", "groups", "gina"); err != nil || out != "eng\nops:oncall\n" {
		t.Errorf("users groups NAME: %v %q", err, out)
	}
	if out, _, _ := cli(t, env, "", "users", "list"); !strings.Contains(out, "GROUPS") || !strings.Contains(out, "eng,ops:oncall") {
		t.Errorf("users list does not show the groups:\n%s", out)
	}
	if _, _, err := cli(t, env, "", "users", "groups", "gina", "remove", "eng"); err != nil {
		t.Fatal(err)
	}
	groupsHeaderWithin(t, c, "user,ops:oncall")

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"gina", "add", "a,b"}, "group name"},
		{[]string{"gina", "add", "admin"}, "is a role"},
		{[]string{"gina", "add", strings.Repeat("x", 65)}, "1-64"},
		{[]string{"gina", "remove", "nope"}, "not in group"},
		{[]string{"nobody", "add", "eng"}, "no user"},
		{[]string{"gina", "rename", "eng"}, "usage"},
	} {
		if _, _, err := cli(t, env, "", append([]string{"users", "groups"}, bad.args...)...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("users groups %v: %v, want %q", bad.args, err, bad.want)
		}
	}
	u, err := g.Store.FindUserByName(context.Background(), "gina")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(u.Groups, ",") != "ops:oncall" {
		t.Errorf("refused commands changed the groups: %v", u.Groups)
	}
	// The count is bounded.
	many := []string{"users", "groups", "gina", "add"}
	for i := range store.MaxGroups {
		many = append(many, "g"+string(rune('a'+i/26))+string(rune('a'+i%26)))
	}
	if _, _, err := cli(t, env, "", many...); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("more than %d groups: %v", store.MaxGroups, err)
	}
	entries, err := g.Store.FindAudit(context.Background(), store.AuditFilter{Action: store.AuditGroupsChange})
	if err != nil || len(entries) != 2 || entries[0].Actor != "operator" || !strings.Contains(entries[0].Detail, "eng, ops:oncall → ops:oncall") {
		t.Errorf("audit entries: %v %+v", err, entries)
	}
}
