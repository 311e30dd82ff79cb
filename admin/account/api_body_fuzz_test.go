package account

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzMeBody posts any body with any Content-Type to the JSON decoder all
// of the person's API calls share. It either accepts one JSON object with
// known fields only, which round-trips, or answers a 4xx JSON error with a
// code; it never answers 2xx to a refusal nor writes after accepting.
func FuzzMeBody(f *testing.F) {
	for _, s := range [][2]string{
		{`{"current_password":"a","new_password":"b"}`, "application/json"},
		{`{"keep_current":false}`, "application/json; charset=utf-8"},
		{`{"keep_current":true,"x":1}`, "application/json"},
		{`{"code":"123456"}{"code":"1"}`, "application/json"},
		{`[]`, "application/json"}, {`null`, "application/json"}, {``, ""}, {` `, "text/plain"},
		{`{"current_password":"a"}`, "text/plain"}, {`{"current_password":"\ud800"}`, "application/json"},
		{`{"Current_Password":"a"}`, "APPLICATION/JSON"}, {`{"keep_current":"yes"}`, "application/json"},
	} {
		f.Add(s[0], s[1], true)
	}
	type body struct {
		Current     string `json:"current_password"`
		New         string `json:"new_password"`
		KeepCurrent *bool  `json:"keep_current"`
		Code        string `json:"code"`
	}
	f.Fuzz(func(t *testing.T, in, contentType string, required bool) {
		r := httptest.NewRequest(http.MethodPost, "/.gateway/api/v1/me/password", strings.NewReader(in))
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		var v body
		ok := decodeMeBody(w, r, &v, required)
		if ok {
			if w.Code != http.StatusOK || w.Body.Len() != 0 {
				t.Fatalf("accepted %q but answered %d %q", in, w.Code, w.Body.String())
			}
			if strings.TrimSpace(in) == "" {
				if required || v != (body{}) {
					t.Fatalf("accepted empty body (required %v) as %+v", required, v)
				}
				return
			}
			b, err := json.Marshal(v)
			var back body
			if err != nil || json.Unmarshal(b, &back) != nil || !sameBody(back, v) {
				t.Fatalf("accepted %q as %+v, which does not round-trip", in, v)
			}
			return
		}
		if w.Code < 400 || w.Code > 499 {
			t.Fatalf("refused %q with status %d", in, w.Code)
		}
		var e struct{ Error, Code string }
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code == "" || e.Error == "" {
			t.Fatalf("refusal of %q is not a JSON error with a code: %q", in, w.Body.String())
		}
	})
}

func sameBody[T any](a, b T) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
