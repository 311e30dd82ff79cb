package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"github.com/authgate/gateway/internal/server"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/notify"
	"github.com/authgate/gateway/store"
)

// demo runs the quickstart: the embedded store, a built-in app behind the
// gateway that shows the identity headers it receives (or, with
// --upstream, the person's own app), and demo users whose generated
// passwords are printed. Plain HTTP on loopback only.
func (e *env) demo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address of the gateway")
	ops := fs.String("ops-listen", "127.0.0.1:9090", "address of /healthz, /readyz, /metrics")
	portal := fs.String("portal-listen", "127.0.0.1:9443", "address of the portal (sign-in, Login & Security, support console)")
	mailListen := fs.String("mail-listen", "127.0.0.1:8025", "address of the demo mailbox, the page that shows the mail the gateway sends")
	upstream := fs.String("upstream", "", "your own app's URL, e.g. http://localhost:3000, to put behind the gateway instead of the built-in demo app")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *upstream != "" {
		if err := demoCheckUpstream(*upstream); err != nil {
			return err
		}
	}
	// The portal gets a port of its own, so the console (served only on a
	// portal origin) works in the demo; bound first to know its URL.
	portalLn, err := net.Listen("tcp", *portal)
	if err != nil {
		return fmt.Errorf("demo: %v; choose another address with --portal-listen, e.g. --portal-listen 127.0.0.1:0 for any free port", err)
	}
	defer portalLn.Close()
	// The app's address too, so the pages' "Back to the app" link knows it.
	publicLn, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("demo: %v; choose another address with --listen, e.g. --listen 127.0.0.1:0 for any free port", err)
	}
	defer publicLn.Close()

	cfg := config.Defaults()
	cfg.Listen, cfg.OpsListen = publicLn.Addr().String(), *ops
	cfg.Upstream = *upstream
	if cfg.Upstream == "" {
		appLn, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		appSrv := &http.Server{Handler: demoApp(), ReadHeaderTimeout: 5 * time.Second}
		go appSrv.Serve(appLn)
		defer appSrv.Close()
		cfg.Upstream = "http://" + appLn.Addr().String()
	}
	cfg.UI.AppURL = "http://" + demoLoopback(cfg.Listen) + "/"
	cfg.Secret = rand.Text() + rand.Text()
	cfg.Cookie.Secure = false // plain HTTP on loopback
	cfg.PublicPaths = []string{"/public/"}
	cfg.PortalListen = portalLn.Addr().String()
	cfg.PortalURL = "http://" + demoLoopback(cfg.PortalListen)
	cfg.RedirectHosts = []string{"127.0.0.1", "localhost"} // the demo app's host, on any port
	cfg.Log.Format = "text"
	if err := cfg.Validate(); err != nil {
		return err
	}
	box := notify.NewMemoryBox(50)
	mailURL, stopMail, err := startDemoMailbox(*mailListen, box, e.stdout)
	if err != nil {
		return err
	}
	defer stopMail()
	log := server.NewLogger(&cfg, e.stderr)
	a, err := server.New(ctx, &cfg, log, server.Options{PortalListener: portalLn, PublicListener: publicLn, MailBox: box})
	if err != nil {
		return err
	}
	type demoUser struct{ name, role string }
	var lines []string
	for _, du := range []demoUser{{"demo", store.RoleUser}, {"demo-support", store.RoleSupport}, {"demo-admin", store.RoleAdmin}} {
		pw := strings.ToLower(rand.Text()[:16])
		hash, err := a.Hasher.Hash(ctx, pw)
		if err != nil {
			a.Close()
			return err
		}
		u := &store.User{Username: du.name, Email: du.name + "@example.com", PasswordHash: hash, Roles: []string{du.role}}
		if err := a.Store.CreateUser(ctx, u); err != nil {
			a.Close()
			return err
		}
		lines = append(lines, fmt.Sprintf("  %-13s %-8s password: %s", du.name, du.role, pw))
	}
	if err := a.Listen(); err != nil {
		a.Close()
		return demoListenError(err, *ops)
	}
	fmt.Fprintf(e.stdout, `
Demo gateway running at %s  (embedded store: everything is lost on exit)
Open it in a browser and sign in as one of these demo users:
%s
(support and admin accounts must set up two-factor authentication at first sign-in.)
Portal (sign-in, Login & Security, support console) at %s
Account page: %s/.gateway/account   Support console: %s/.gateway/admin
Health and metrics: http://%s/metrics
Mail the gateway sends (new-device alerts with "This wasn't me", reset links): %s
`, a.BaseURL(), strings.Join(lines, "\n"), cfg.PortalURL, cfg.PortalURL, cfg.PortalURL, a.OpsAddr, mailURL)
	if *upstream != "" {
		fmt.Fprintf(e.stdout, `Your app at %s is behind it. From your app's pages, link to the account page
with <a href="/.gateway/account"> and sign out with
<form method="post" action="/.gateway/logout"><button>Sign out</button></form>.
`, *upstream)
	}
	fmt.Fprintln(e.stdout, "Press Ctrl-C to stop.")
	<-ctx.Done()
	a.Shutdown(5 * time.Second)
	return nil
}

// demoCheckUpstream accepts an http(s) URL with a host, naming the flag
// otherwise: the demo reads no configuration file, so the message of the
// upstream setting would point at the wrong place.
func demoCheckUpstream(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("demo: --upstream %q must be your app's URL with http:// or https://, e.g. --upstream http://localhost:3000", raw)
	}
	return nil
}

// demoLoopback is a listen address as a browser on this machine opens it:
// a wildcard host becomes 127.0.0.1.
func demoLoopback(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// demoListenError names the demo's own flags: the server's message names the
// settings listen and ops_listen (GATEWAY_LISTEN, GATEWAY_OPS_LISTEN), which
// the demo does not read.
func demoListenError(err error, ops string) error {
	var op *net.OpError
	if !errors.As(err, &op) {
		return err
	}
	flagName := "--listen"
	if op.Addr != nil && op.Addr.String() == ops {
		flagName = "--ops-listen"
	}
	return fmt.Errorf("demo: %v; choose another address with %s, e.g. %s 127.0.0.1:0 for any free port", op, flagName, flagName)
}

// demoApp is the app behind the demo gateway: it shows what it received.
// demoCSS is the demo's pages' frame: readable on a phone, and dark when
// the system is (prefers-color-scheme), as the gateway's own pages are.
const demoCSS = `:root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1b;--link:#0b57d0;--line:#ccc;--code:#f1f1f1}
@media (prefers-color-scheme:dark){:root{--bg:#16181b;--fg:#e6e6e6;--link:#8ab4f8;--line:#4a4d52;--code:#2a2d31}}
body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;background:var(--bg);color:var(--fg)}
a{color:var(--link)}`

func demoApp() http.Handler {
	page := template.Must(template.New("demo").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo app</title><style>` + demoCSS + `
table{width:100%;table-layout:fixed;border-collapse:collapse}td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
th:first-child{width:40%}code{background:var(--code);padding:0 .25rem;overflow-wrap:anywhere}</style></head>
<body><h1>Demo app</h1>
<p>This page is served by an app behind the gateway. {{if .User}}The gateway says you are <strong id="user">{{.User}}</strong>.{{else}}No identity headers: this is a public path.{{end}}</p>
<p><a href="/.gateway/account">Login &amp; Security</a> (on the portal) · <a href="/public/">a public page</a></p>
<form method="post" action="/.gateway/logout"><button type="submit" id="signout">Sign out</button></form>
<h2>Request headers the app received</h2><table id="headers"><tr><th>Header</th><th>Value</th></tr>
{{range .Headers}}<tr><td><code>{{.Name}}</code></td><td>{{.Value}}</td></tr>{{end}}</table>
<p>Path seen by the app: <code id="path">{{.Path}}</code></p></body></html>`))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		type kv struct{ Name, Value string }
		var hs []kv
		for k, vs := range r.Header {
			hs = append(hs, kv{k, strings.Join(vs, ", ")})
		}
		sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, map[string]any{"User": r.Header.Get("X-Forwarded-User"), "Headers": hs, "Path": r.URL.Path})
	})
}
