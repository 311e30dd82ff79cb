package gateway

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// routeRule is one route's access rules (config.RouteRules), ready for the
// request path: decided from the session's claims and the user mirror,
// without Redis and without allocating.
type routeRule struct {
	allow, deny config.Principals // groups and users in canonical form
	public      []string
	mfa         bool
	reauth      time.Duration
	// need describes for the 403 page who has access (roles and groups,
	// never other people's names).
	need string
}

// Outcomes of a rule for a signed-in person.
type ruleVerdict uint8

const (
	ruleOK        ruleVerdict = iota // proxy the request
	ruleForbidden                    // 403: not allowed, or denied
	ruleMFA                          // a second factor is due first
	ruleReauth                       // the password is due again first
)

// newRouteRules builds the rules of routes, index for index.
func newRouteRules(routes []config.Route) []routeRule {
	out := make([]routeRule, len(routes))
	for i := range routes {
		rr := &routes[i].RouteRules
		var need []string
		if len(rr.Allow.Roles) > 0 {
			need = append(need, "the role "+strings.Join(rr.Allow.Roles, " or "))
		}
		if len(rr.Allow.Groups) > 0 {
			need = append(need, "the group "+strings.Join(rr.Allow.Groups, " or "))
		}
		out[i] = routeRule{
			allow: rr.Allow, deny: rr.Deny, mfa: rr.MFA == config.RouteMFARequired, reauth: rr.Reauth.Duration,
			need: strings.Join(need, ", or "),
		}
		for _, p := range rr.Public {
			out[i].public = append(out[i].public, httpsafe.CleanPath(p))
		}
	}
	return out
}

// rule returns the rules of route i (-1: the fallback upstream, no rules).
func (g *Gateway) rule(i int) *routeRule {
	if i < 0 || i >= len(g.rules) {
		return nil
	}
	return &g.rules[i]
}

// names reports whether p names u by role, group or user name.
func names(p *config.Principals, u *store.UserState) bool {
	for _, r := range p.Roles {
		if u.HasRole(r) {
			return true
		}
	}
	for _, grp := range p.Groups {
		if u.HasGroup(grp) {
			return true
		}
	}
	return slices.Contains(p.Users, u.Username)
}

// decide applies the rule to a fully signed-in person at now: deny first,
// then allow, then the second factor, then the age of the sign-in.
func (rr *routeRule) decide(cur *store.Principal, now time.Time) ruleVerdict {
	if rr == nil {
		return ruleOK
	}
	u := cur.User
	if names(&rr.deny, u) {
		return ruleForbidden
	}
	if !rr.allow.Empty() && !names(&rr.allow, u) {
		return ruleForbidden
	}
	if rr.mfa && !cur.Claims.MFA {
		return ruleMFA
	}
	if rr.reauth > 0 && now.UnixNano()-cur.Claims.AuthAt > int64(rr.reauth) {
		return ruleReauth
	}
	return ruleOK
}

// routePublic reports whether the route's own public entries open the
// path (on every reading: see isPublic).
func (g *Gateway) routePublic(rr *routeRule, r *http.Request, cleaned string) bool {
	if rr == nil || len(rr.public) == 0 || !httpsafe.IsPublicPath(cleaned, rr.public) {
		return false
	}
	return !httpsafe.SuspiciousPath(r.URL.EscapedPath())
}

// refuse answers 403 to a signed-in person a rule keeps out: a page naming
// who they are signed in as and how to get access, or JSON.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, cur *store.Principal, rr *routeRule) {
	g.Metrics.count(outcomeForbidden)
	name := cur.User.Username
	how := "Ask whoever runs this site to give your account access"
	if rr.need != "" {
		how += " (it needs " + rr.need + ")"
	}
	msg := "You are signed in as " + name + ", and this account has no access to this page. " + how +
		", or sign out and sign in with an account that has it."
	if !web.WantsHTML(r) {
		web.WriteJSONError(w, http.StatusForbidden, "forbidden", "signed in as "+name+", who has no access to this path")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src "+g.imgSources()+"; frame-ancestors 'none'")
	g.render(w, r, http.StatusForbidden, templates.Error(templates.ErrorPage{
		Chrome: templates.Chrome{Title: "No access", Prefix: g.prefix, SignedIn: true, Username: name},
		Status: http.StatusForbidden, Message: msg, LinkURL: g.prefix + "/logout", LinkText: "Sign out to use another account",
	}))
}

// askToStepUp sends a browser to confirm its sign-in (a second factor or
// the password again), back here afterwards; anything else gets 401 with
// the code mfa_required or reauth_required.
func (g *Gateway) askToStepUp(w http.ResponseWriter, r *http.Request, v ruleVerdict, back string) {
	need, code, msg := "password", "reauth_required", "enter your password again to open this path"
	if v == ruleMFA {
		need, code, msg = "mfa", "mfa_required", "a second factor is required for this path"
	}
	g.Metrics.count(outcomeStepUp)
	target := g.stepUpURL(r, need, back)
	if !web.WantsHTML(r) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		w.Header().Set("WWW-Authenticate", `Cookie realm="gateway"`)
		w.Header().Set("Location", target)
		web.WriteJSONError(w, http.StatusUnauthorized, code, msg)
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// stepUpURL is the confirm page (the portal's, with a portal) with the way
// back to back, a local path and query on the request's host.
func (g *Gateway) stepUpURL(r *http.Request, need, back string) string {
	page := g.prefix + "/login/confirm"
	rd := g.cleanRD(back)
	if g.Config.HasPortal() {
		page = g.Config.PortalPage(page)
		rd = g.cleanRD(g.appURL(r, rd))
	}
	return page + "?need=" + need + "&rd=" + url.QueryEscape(rd)
}
