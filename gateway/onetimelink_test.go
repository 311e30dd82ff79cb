package gateway

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/store"
)

// fakeOneTime is a oneTimeStore built from function fields; it records
// which calls it saw.
type fakeOneTime struct {
	find, consume func(kind, tok string) (*store.OneTime, error)
	user          func(uid string) (*store.User, error)
	calls         []string
}

func (f *fakeOneTime) FindOneTime(_ context.Context, kind, tok string) (*store.OneTime, error) {
	f.calls = append(f.calls, "find "+kind+" "+tok)
	return f.find(kind, tok)
}

func (f *fakeOneTime) ConsumeOneTime(_ context.Context, kind, tok string) (*store.OneTime, error) {
	f.calls = append(f.calls, "consume "+kind+" "+tok)
	return f.consume(kind, tok)
}

func (f *fakeOneTime) FindUserByID(_ context.Context, uid string) (*store.User, error) {
	return f.user(uid)
}

// testOneTimeLink is a link page at /p for tokens of kind "k", whose 410
// page says whether the token was missing; logs go to the returned buffer.
func testOneTimeLink(t *testing.T, st oneTimeStore) (*oneTimeLink, *bytes.Buffer) {
	t.Helper()
	cfg := config.Defaults()
	var logs bytes.Buffer
	g := &Gateway{Deps: Deps{Config: &cfg, Log: slog.New(slog.NewTextHandler(&logs, nil))}, proxy: &proxy{}}
	sl := &secretLink{g: g, name: "gw_link_k", path: "/p",
		codecs: []securecookie.Codec{securecookie.New(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32))}}
	l := &oneTimeLink{secretLink: sl, st: st, kind: "k", what: "test link",
		gone: func(w http.ResponseWriter, _ *http.Request, noToken bool) {
			w.WriteHeader(http.StatusGone)
			if noToken {
				_, _ = w.Write([]byte("open the link again"))
			}
		}}
	return l, &logs
}

func linkFake() *fakeOneTime {
	return &fakeOneTime{
		find:    func(_, tok string) (*store.OneTime, error) { return &store.OneTime{UserID: "u1", Data: tok}, nil },
		consume: func(_, tok string) (*store.OneTime, error) { return &store.OneTime{UserID: "u1", Data: tok}, nil },
		user:    func(uid string) (*store.User, error) { return &store.User{ID: uid, Username: "ann"}, nil },
	}
}

func cleared(w *httptest.ResponseRecorder, name string) bool {
	for _, c := range w.Result().Cookies() {
		if c.Name == name && c.MaxAge < 0 {
			return true
		}
	}
	return false
}

func TestOneTimeLinkOpen(t *testing.T) {
	boom := errors.New("redis down")
	notFound := func(string, string) (*store.OneTime, error) { return nil, store.ErrNotFound }
	tests := []struct {
		name    string
		tok     string
		use     bool
		change  func(*fakeOneTime)
		status  int // 0: opened
		cleared bool
		call    string
	}{
		{"opens without using", "T", false, nil, 0, false, "find k T"},
		{"opens and uses", "T", true, nil, 0, false, "consume k T"},
		{"no token", "", false, nil, http.StatusGone, true, ""},
		{"unknown or used", "T", false, func(f *fakeOneTime) { f.find = notFound }, http.StatusGone, true, "find k T"},
		{"used by a racing post", "T", true, func(f *fakeOneTime) { f.consume = notFound }, http.StatusGone, true, "consume k T"},
		{"account gone", "T", false, func(f *fakeOneTime) {
			f.user = func(string) (*store.User, error) { return nil, store.ErrNotFound }
		}, http.StatusGone, true, "find k T"},
		{"store fails", "T", false, func(f *fakeOneTime) {
			f.find = func(string, string) (*store.OneTime, error) { return nil, boom }
		}, http.StatusServiceUnavailable, false, "find k T"},
	}
	for _, tt := range tests {
		f := linkFake()
		if tt.change != nil {
			tt.change(f)
		}
		l, _ := testOneTimeLink(t, f)
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/p", nil)
		ot, u, ok := l.open(r.Context(), w, r, tt.tok, tt.use)
		switch {
		case tt.status == 0 && (!ok || ot.Data != tt.tok || u.Username != "ann"):
			t.Errorf("%s: open = %+v, %+v, %v", tt.name, ot, u, ok)
		case tt.status != 0 && (ok || w.Code != tt.status):
			t.Errorf("%s: ok %v, status %d; want %d", tt.name, ok, w.Code, tt.status)
		}
		if cleared(w, l.name) != tt.cleared {
			t.Errorf("%s: cookie cleared = %v, want %v", tt.name, !tt.cleared, tt.cleared)
		}
		if got := strings.Join(f.calls, ","); got != tt.call {
			t.Errorf("%s: store saw %q, want %q", tt.name, got, tt.call)
		}
		if tt.tok == "" && !strings.Contains(w.Body.String(), "open the link again") {
			t.Errorf("%s: the page does not say the token is missing", tt.name)
		}
	}
}

// TestOneTimeLinkRoutes: a link's GET moves the token into the cookie and
// looks nothing up; the clean GET shows the page for the cookie's token
// without using it; the POST goes to the page's own handler.
func TestOneTimeLinkRoutes(t *testing.T) {
	f := linkFake()
	l, _ := testOneTimeLink(t, f)
	mux := http.NewServeMux()
	var shown, submitted string
	l.routes(mux, func(w http.ResponseWriter, _ *http.Request, ot *store.OneTime, u *store.User) {
		shown = u.Username + " " + ot.Data
	}, func(http.ResponseWriter, *http.Request) { submitted = "yes" })
	if len(l.g.proxy.ownCookies) != 1 || l.g.proxy.ownCookies[0] != l.name {
		t.Errorf("the link's cookie is not kept from the apps: %q", l.g.proxy.ownCookies)
	}

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/p?token=T1", nil))
	if w.Code != http.StatusFound || w.Header().Get("Location") != "/p" || len(f.calls) != 0 {
		t.Fatalf("link opened: %d to %q, store saw %q", w.Code, w.Header().Get("Location"), f.calls)
	}
	ck := w.Result().Cookies()
	r := httptest.NewRequest(http.MethodGet, "/p", nil)
	for _, c := range ck {
		r.AddCookie(c)
	}
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if shown != "ann T1" || strings.Join(f.calls, ",") != "find k T1" {
		t.Fatalf("clean page: shown %q, store saw %q", shown, f.calls)
	}
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/p", nil))
	if submitted != "yes" {
		t.Fatal("the POST did not reach the page's handler")
	}
}

func TestOneTimeLinkUseUp(t *testing.T) {
	f := linkFake()
	l, logs := testOneTimeLink(t, f)
	f.consume = func(string, string) (*store.OneTime, error) { return nil, store.ErrNotFound }
	l.useUp(context.Background(), "T")
	if logs.Len() != 0 {
		t.Errorf("a token a racing post used up was logged: %s", logs)
	}
	f.consume = func(string, string) (*store.OneTime, error) { return nil, errors.New("redis down") }
	l.useUp(context.Background(), "SECRET-TOKEN")
	if !strings.Contains(logs.String(), "test link: use up the link") || strings.Contains(logs.String(), "SECRET-TOKEN") {
		t.Errorf("log after a failed use-up: %s", logs)
	}
	if strings.Join(f.calls, ",") != "consume k T,consume k SECRET-TOKEN" {
		t.Errorf("store saw %q", f.calls)
	}
}
