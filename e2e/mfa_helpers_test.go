package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/testenv"
	"github.com/authgate/gateway/store"
)

// mfaApp stands in for a person's authenticator app: oathtool with the
// secret. Because the gateway accepts each time step once per person, it
// never hands out a step twice: each code is for the earliest step after
// the last one that the gateway still accepts (one step of skew either
// side), waiting for the clock only when all three are used up.
type mfaApp struct {
	t      *testing.T
	bin    string
	secret string
	last   int64
}

func newMFAApp(t *testing.T, secret string) *mfaApp {
	t.Helper()
	bin := testenv.LookPath(t, "oathtool", testenv.RequireOathtool)
	if secret == "" {
		t.Fatal("no TOTP secret")
	}
	return &mfaApp{t: t, bin: bin, secret: secret}
}

// at is oathtool's code for a time step.
func (a *mfaApp) at(step int64) string {
	a.t.Helper()
	out, err := exec.Command(a.bin, "--totp", "-b", "-N", "@"+strconv.FormatInt(step*30, 10), a.secret).Output()
	if err != nil {
		a.t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// code returns the next code the gateway will accept.
func (a *mfaApp) code() string {
	a.t.Helper()
	for deadline := time.Now().Add(70 * time.Second); time.Now().Before(deadline); {
		now := time.Now()
		cur := now.Unix() / 30
		next := time.Unix((cur+1)*30, 0).Add(100 * time.Millisecond)
		// Close to a step change, the previous step is about to fall out
		// of the window: wait the few seconds for the new step.
		if time.Until(next) < 3*time.Second {
			time.Sleep(time.Until(next))
			continue
		}
		if s := max(a.last+1, cur-1); s <= cur+1 {
			a.last = s
			return a.at(s)
		}
		time.Sleep(time.Until(next))
	}
	a.t.Fatal("no usable TOTP step")
	return ""
}

// wrong is a six-digit code that is none of the accepted ones now.
func (a *mfaApp) wrong() string {
	a.t.Helper()
	cur := time.Now().Unix() / 30
	valid := map[string]bool{}
	for s := cur - 2; s <= cur+2; s++ {
		valid[a.at(s)] = true
	}
	for _, c := range []string{"000000", "123456", "999999", "424242"} {
		if !valid[c] {
			return c
		}
	}
	a.t.Fatal("no wrong code found")
	return ""
}

// mfaPostJSON posts a JSON body to the API.
func mfaPostJSON(t *testing.T, c *harness.Client, path, body string) *http.Response {
	t.Helper()
	return c.Do(t, http.MethodPost, path, strings.NewReader(body), "Content-Type", "application/json")
}

// mfaDecode decodes a JSON answer.
func mfaDecode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// mfaDoc parses an HTML answer.
func mfaDoc(t *testing.T, resp *http.Response) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// mfaEnrolAPI signs name in and turns 2FA on through the JSON API; it
// returns the signed-in client, the app and the recovery codes.
func mfaEnrolAPI(t *testing.T, g *harness.Gateway, name string) (*harness.Client, *mfaApp, []string) {
	t.Helper()
	c := g.NewClient(t)
	c.Login(t, name, harness.TestPassword)
	resp := mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/setup", "")
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("setup: %d %s", resp.StatusCode, b)
	}
	var setup struct {
		Secret     string `json:"secret"`
		OTPAuthURL string `json:"otpauth_url"`
	}
	mfaDecode(t, resp, &setup)
	u, err := url.Parse(setup.OTPAuthURL)
	if err != nil || u.Scheme != "otpauth" || u.Query().Get("secret") != setup.Secret {
		t.Fatalf("otpauth_url %q does not carry the secret", setup.OTPAuthURL)
	}
	app := newMFAApp(t, setup.Secret)
	resp = mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/confirm", `{"code":"`+app.code()+`"}`)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("confirm: %d %s", resp.StatusCode, b)
	}
	var confirmed struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	mfaDecode(t, resp, &confirmed)
	if len(confirmed.RecoveryCodes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(confirmed.RecoveryCodes))
	}
	return c, app, confirmed.RecoveryCodes
}

// mfaPasswordStep posts the password and expects to be sent to the code
// step (a half-signed-in session).
func mfaPasswordStep(t *testing.T, c *harness.Client, name string) {
	t.Helper()
	resp := signIn(t, c, name, harness.TestPassword, "/app/page")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/.gateway/login/2fa?rd=%2Fapp%2Fpage" {
		t.Fatalf("after the password: %d to %q, want 303 to the code step", resp.StatusCode, loc)
	}
}

// mfaSubmit posts a code to the sign-in step.
func mfaSubmit(t *testing.T, c *harness.Client, code string, extra ...string) *http.Response {
	t.Helper()
	form := url.Values{"code": {code}, "rd": {"/app/page"}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return c.PostForm(t, "/.gateway/login/2fa", form)
}

// mfaWantRefused checks that a code was refused with the message want.
func mfaWantRefused(t *testing.T, resp *http.Response, status int, want string) {
	t.Helper()
	doc := mfaDoc(t, resp)
	got := strings.TrimSpace(doc.Find("#error").Text())
	if resp.StatusCode != status || !strings.Contains(got, want) {
		t.Fatalf("refusal: %d %q, want %d with %q", resp.StatusCode, got, status, want)
	}
}

// mfaEvents lists the types and details of name's activity, newest first.
func mfaEvents(t *testing.T, g *harness.Gateway, uid string) []store.Event {
	t.Helper()
	evs, err := g.Store.FindEvents(t.Context(), uid, 50)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func mfaHasEvent(evs []store.Event, typ, detailPart string) bool {
	for _, e := range evs {
		if e.Type == typ && strings.Contains(e.Detail, detailPart) {
			return true
		}
	}
	return false
}
