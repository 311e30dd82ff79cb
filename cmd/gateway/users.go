package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/authgate/gateway/internal/server"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passwords"
)

// openStore opens the Redis store of the configuration for the command
// what (users, sessions), which needs only what reaches the store; the
// caller closes it. The embedded store cannot be reached from outside a
// running gateway.
func (e *env) openStore(ctx context.Context, what string) (*config.Config, *store.Store, error) {
	cfg, err := config.LoadStoreOnly(e.configPath, e.environ)
	if err != nil {
		return nil, nil, err
	}
	if cfg.IsEmbeddedStore() {
		return nil, nil, errors.New(what + " commands need a Redis to talk to: set redis.url (GATEWAY_REDIS_URL); the embedded store lives only inside a running gateway")
	}
	log := server.NewLogger(cfg, e.stderr)
	routeRedisLogs(log)
	st, err := store.OpenWith(ctx, cfg.Redis.URL, store.Options{Timeout: cfg.Redis.Timeout.Duration, MaxBlock: cfg.Redis.WaitTimeout.Duration}, log)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Redis.ActivityLimit > 0 {
		st.ActivityLimit = cfg.Redis.ActivityLimit
	}
	return cfg, st, nil
}

// users manages accounts directly in the store the gateway uses.
func (e *env) users(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: gateway users add|passwd|list|groups|disable|enable|unthrottle (see gateway help)")
	}
	cfg, st, err := e.openStore(ctx, "users")
	if err != nil {
		return err
	}
	defer st.Close()
	hasher := passwords.NewHasher(passwords.DefaultParams(), 0)
	sub, rest := args[0], args[1:]
	switch sub {
	case "add":
		return e.usersAdd(ctx, st, hasher, cfg, rest)
	case "passwd":
		return e.usersPasswd(ctx, st, hasher, cfg, rest)
	case "list":
		if len(rest) > 0 {
			return errors.New("usage: gateway users list (it takes no arguments)")
		}
		return e.usersList(ctx, st)
	case "disable", "enable":
		return e.usersSetDisabled(ctx, st, rest, sub == "disable")
	case "groups":
		return e.usersGroups(ctx, st, rest) // users_groups.go
	case "unthrottle":
		return e.usersUnthrottle(ctx, st, rest) // users_unthrottle.go
	}
	return fmt.Errorf("unknown users command %q", sub)
}

// parseInterspersed parses flags that may come after positional arguments
// ("users add alice --email …").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (e *env) usersAdd(ctx context.Context, st *store.Store, h *passwords.Hasher, cfg *config.Config, args []string) error {
	fs := flag.NewFlagSet("users add", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	email := fs.String("email", "", "email address")
	role := fs.String("role", "user", "role: user, support or admin (comma-separated for several)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: gateway users add NAME --email E --role user|support|admin [--password-stdin]")
	}
	name := store.CanonicalUsername(pos[0])
	if err := store.ValidateUsername(name); err != nil {
		return err
	}
	if *email != "" {
		if err := store.ValidateEmail(*email); err != nil {
			return err
		}
	}
	roles := strings.Split(*role, ",")
	for _, r := range roles {
		if !store.ValidRole(r) {
			return fmt.Errorf("--role %q: must be user, support or admin", r)
		}
	}
	pw, err := e.readPassword(*fromStdin, "Password for "+name+": ")
	if err != nil {
		return err
	}
	if err := passwords.Check(pw, cfg.Password.MinLength, name, *email); err != nil {
		return fmt.Errorf("password refused: %w", err)
	}
	hash, err := h.Hash(ctx, pw)
	if err != nil {
		return err
	}
	u := &store.User{Username: name, Email: *email, PasswordHash: hash, Roles: roles}
	if err := st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("user %q already exists", name)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "created user %s (%s)\n", u.Username, strings.Join(u.Roles, ","))
	return nil
}

func (e *env) usersPasswd(ctx context.Context, st *store.Store, h *passwords.Hasher, cfg *config.Config, args []string) error {
	fs := flag.NewFlagSet("users passwd", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: gateway users passwd NAME [--password-stdin]")
	}
	u, err := st.FindUserByName(ctx, pos[0])
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q", pos[0])
	}
	if err != nil {
		return err
	}
	pw, err := e.readPassword(*fromStdin, "New password for "+u.Username+": ")
	if err != nil {
		return err
	}
	if err := passwords.Check(pw, cfg.Password.MinLength, u.Username, u.Email); err != nil {
		return fmt.Errorf("password refused: %w", err)
	}
	hash, err := h.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if err := st.UpdateUser(ctx, u.ID, store.UserUpdate{PasswordHash: &hash}); err != nil {
		return err
	}
	// A new password signs the account out everywhere, as on the account page.
	if err := st.SignOutEverywhere(ctx, u.ID, time.Now()); err != nil {
		return err
	}
	_ = st.AppendEvent(ctx, u.ID, store.Event{Type: store.EventPasswordChanged, Detail: "changed by an operator (command line); all devices signed out", Actor: "operator"})
	fmt.Fprintf(e.stdout, "password changed for %s; all of their sessions were signed out\n", u.Username)
	return nil
}

func (e *env) usersList(ctx context.Context, st *store.Store) error {
	users, err := st.FindUsers(ctx, "", 0)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tEMAIL\tROLES\tGROUPS\t2FA\tSTATUS\tCREATED")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		mfa := "off"
		if u.MFAEnabled {
			mfa = "on"
		}
		groups := strings.Join(u.Groups, ",")
		if groups == "" {
			groups = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.Email, strings.Join(u.Roles, ","), groups, mfa, status, u.Created.Format(time.DateOnly))
	}
	return tw.Flush()
}

func (e *env) usersSetDisabled(ctx context.Context, st *store.Store, args []string, disabled bool) error {
	if len(args) != 1 {
		return errors.New("usage: gateway users disable|enable NAME")
	}
	u, err := st.FindUserByName(ctx, args[0])
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q", args[0])
	}
	if err != nil {
		return err
	}
	if err := st.UpdateUser(ctx, u.ID, store.UserUpdate{Disabled: &disabled}); err != nil {
		return err
	}
	verb, ev, done := "enabled", store.EventUnlocked, ""
	if disabled {
		// As the console's disable: end every session too, so enabling the
		// account later does not bring the old sessions back.
		if err := st.SignOutEverywhere(ctx, u.ID, time.Now()); err != nil {
			return err
		}
		verb, ev, done = "disabled", store.EventDisabled, " and signed out of every device"
		// And revoke the API tokens the account owns, which stay dead if
		// it is enabled again.
		gone, err := st.RetireAPITokensOf(ctx, &store.UserState{ID: u.ID, Roles: u.Roles, Disabled: true})
		if err != nil {
			return err
		}
		if len(gone) > 0 {
			done += fmt.Sprintf("; %d API tokens revoked", len(gone))
		}
	}
	_ = st.AppendEvent(ctx, u.ID, store.Event{Type: ev, Detail: "account " + verb + " by an operator (command line)" + done, Actor: "operator"})
	fmt.Fprintf(e.stdout, "user %s %s%s\n", u.Username, verb, done)
	return nil
}

// readPassword reads a password from stdin (first line) or, on a terminal,
// from a prompt without echo, asked twice.
func (e *env) readPassword(fromStdin bool, prompt string) (string, error) {
	if !fromStdin {
		f, ok := e.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", errors.New("no terminal to prompt for a password: pipe it in with --password-stdin")
		}
		fmt.Fprint(e.stderr, prompt)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(e.stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords do not match")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("empty password on stdin")
	}
	return pw, nil
}
