package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/authgate/gateway/store"
)

// FuzzSessionCookie decodes whatever a client can put in a Cookie header
// the way Authenticate does, and checks three things: a value the
// gateway did not seal never decodes (HMAC), claims the gateway sealed
// always decode to themselves from anywhere in the header, and the claims
// serializer reads any payload without panicking, re-encoding what it
// accepts to the same claims.
func FuzzSessionCookie(f *testing.F) {
	f.Add("gw=abc", []byte{1, 0, 0, 0}, "sid", "uid", int64(1), false)
	f.Add(`a=1; gw="x"; gw=y`, []byte{}, "", "", int64(0), true)
	f.Add("gw=; gw=MTcx", []byte{1, 3, 'a', 'b', 'c'}, strings.Repeat("s", 255), "u", int64(-1), false)
	f.Add(" \tgw=v\t ;x", []byte{2}, "s;id", "u=id", int64(1<<62), true)
	secret := []string{"fuzz secret for the session cookie codec, 32+ bytes"}
	s, err := NewSessions(SessionOptions{Secrets: secret, CookieName: "gw", Lifetime: time.Hour}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string, payload []byte, sid, uid string, issued int64, mfa bool) {
		// Anything the client sends: a value the codecs did not seal is
		// refused.
		raw := cookieValue([]string{header}, "gw")
		if raw != "" && !strings.Contains(header, raw) {
			t.Fatalf("cookieValue(%q) = %q, which is not in the header", header, raw)
		}
		var c store.Claims
		if raw != "" && securecookie.DecodeMulti("gw", raw, &c, s.codecs...) == nil {
			t.Fatalf("cookie %q from header %q decoded without being sealed by the gateway", raw, header)
		}

		// The serializer alone, as if a sealed cookie carried payload.
		var d store.Claims
		if (store.ClaimsSerializer{}).Deserialize(payload, &d) == nil {
			b, err := store.ClaimsSerializer{}.Serialize(&d)
			var back store.Claims
			if err != nil || (store.ClaimsSerializer{}).Deserialize(b, &back) != nil || back != d {
				t.Fatalf("payload %x decoded to %+v, which does not survive re-encoding", payload, d)
			}
		}

		// What the gateway seals comes back unchanged, wherever the
		// cookie sits among others.
		want := store.Claims{SessionID: sid, UserID: uid, Generation: "g", IssuedAt: issued,
			Created: time.Now().UnixNano(), AuthAt: issued, MFA: mfa}
		enc, err := securecookie.EncodeMulti("gw", &want, s.codecs...)
		if err != nil {
			if len(sid) <= 255 && len(uid) <= 255 {
				t.Fatalf("claims %+v could not be sealed: %v", want, err)
			}
			return
		}
		line := header + "; gw=" + enc
		if strings.Contains(header, "gw=") {
			// Two values under the name may be refused as ambiguous
			// (a planted cookie must not shadow the real one).
			if v := cookieValue([]string{"gw=" + enc + "; " + header}, "gw"); v != "" && v != enc {
				t.Fatalf("ambiguous header %q read as %q", header, v)
			}
			return
		}
		var got store.Claims
		if err := securecookie.DecodeMulti("gw", cookieValue([]string{line}, "gw"), &got, s.codecs...); err != nil || got != want {
			t.Fatalf("sealed %+v in %q: got %+v, %v", want, line, got, err)
		}
		r := &http.Request{Header: http.Header{"Cookie": {line}}}
		if c, err := r.Cookie("gw"); err == nil && c.Value != enc && !strings.Contains(header, "gw=") {
			t.Fatalf("net/http reads %q from %q; the gateway reads %q", c.Value, line, enc)
		}
	})
}
