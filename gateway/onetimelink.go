package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/authgate/gateway/store"
)

// oneTimeStore is what a page opened from a mailed one-time link needs.
type oneTimeStore interface {
	FindOneTime(ctx context.Context, kind, tok string) (*store.OneTime, error)
	ConsumeOneTime(ctx context.Context, kind, tok string) (*store.OneTime, error)
	FindUserByID(ctx context.Context, uid string) (*store.User, error)
}

// oneTimeLink is a page at {prefix}{page} that a mailed link opens with a
// store.OneTime token of one kind. The token travels as secretlink.go
// describes; the GET only shows what the POST would do, changing nothing,
// and the page's own POST handler acts and uses the token up.
type oneTimeLink struct {
	*secretLink
	st   oneTimeStore
	kind string // store.Token…
	what string // names the page in log lines
	// gone renders the page's 410: the token is missing (noToken: the
	// cookie expired or cookies are blocked, so open the link again), or
	// unknown, used or expired. The cookie is already cleared.
	gone func(w http.ResponseWriter, r *http.Request, noToken bool)
}

// newOneTimeLink prepares the link page; linkKind tells its cookie and keys
// apart from other links' (newSecretLink).
func (g *Gateway) newOneTimeLink(st oneTimeStore, linkKind, page, tokenKind, what string,
	gone func(w http.ResponseWriter, r *http.Request, noToken bool)) *oneTimeLink {
	return &oneTimeLink{secretLink: g.newSecretLink(linkKind, page), st: st, kind: tokenKind, what: what, gone: gone}
}

// routes registers the page: GET moves a token from the address into the
// cookie, or finds the cookie's token (without using it) and hands it to
// show; POST goes to submit as it is. The cookie is the gateway's own, so
// the proxy never passes it to an app.
func (l *oneTimeLink) routes(mux *http.ServeMux,
	show func(w http.ResponseWriter, r *http.Request, t *store.OneTime, u *store.User), submit http.HandlerFunc) {
	l.g.proxy.ownCookies = append(l.g.proxy.ownCookies, l.name)
	mux.HandleFunc("GET "+l.path, func(w http.ResponseWriter, r *http.Request) {
		if l.exchange(w, r) {
			return
		}
		if t, u, ok := l.open(r.Context(), w, r, l.token(r), false); ok {
			show(w, r, t, u)
		}
	})
	mux.HandleFunc("POST "+l.path, submit)
}

// open finds tok's record and account. With use it uses the token up in
// the same step, so of two racing posts only one gets it; without, nothing
// changes. ok is false when it has answered: 410 (gone) when the token is
// missing, unknown, used or expired; 503 when the store fails.
func (l *oneTimeLink) open(ctx context.Context, w http.ResponseWriter, r *http.Request, tok string, use bool) (*store.OneTime, *store.User, bool) {
	if tok == "" {
		l.refuse(w, r, true)
		return nil, nil, false
	}
	find := l.st.FindOneTime
	if use {
		find = l.st.ConsumeOneTime
	}
	t, err := find(ctx, l.kind, tok)
	var u *store.User
	if err == nil {
		u, err = l.st.FindUserByID(ctx, t.UserID)
	}
	if errors.Is(err, store.ErrNotFound) {
		l.refuse(w, r, false)
		return nil, nil, false
	}
	if err != nil {
		l.g.Log.Error(l.what+": look-up", "err", err.Error())
		l.g.unavailable(w, r)
		return nil, nil, false
	}
	return t, u, true
}

// refuse drops the cookie and answers that the link cannot be used.
func (l *oneTimeLink) refuse(w http.ResponseWriter, r *http.Request, noToken bool) {
	l.clear(w)
	l.gone(w, r, noToken)
}

// useUp uses the token up after the page has acted on it; a token already
// gone (a racing post used it) is no error.
func (l *oneTimeLink) useUp(ctx context.Context, tok string) {
	if _, err := l.st.ConsumeOneTime(ctx, l.kind, tok); err != nil && !errors.Is(err, store.ErrNotFound) {
		l.g.Log.Warn(l.what+": use up the link", "err", err.Error())
	}
}
