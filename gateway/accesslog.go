package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/authgate/gateway/gateway/httpsafe"
)

// requestIDHeader carries the request id to the app and back to the client.
const requestIDHeader = "X-Request-Id"

// accessLog writes one JSON line per request to the apps (log.access): the
// same shape as the other log lines ("time", "level", "msg"), written
// straight into a pooled buffer, so that a line costs one write and no
// garbage beyond the request id. The path is logged without its query
// string, which can carry tokens.
type accessLog struct {
	mu      sync.Mutex // one line per Write, never interleaved
	w       io.Writer
	trusted []netip.Prefix
	pick    func(host, cleaned string) string // the route a request went to
	// Generated ids are a random per-process prefix and a counter: unique
	// across replicas and restarts, and cheap.
	idPrefix string
	seq      atomic.Uint64
	bufs     sync.Pool // *[]byte
	recs     sync.Pool // *accessRecorder
}

func newAccessLog(w io.Writer, trusted []netip.Prefix, route func(host, cleaned string) string) *accessLog {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &accessLog{
		w: w, trusted: trusted, pick: route, idPrefix: hex.EncodeToString(b[:]),
		bufs: sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }},
		recs: sync.Pool{New: func() any { return new(accessRecorder) }},
	}
}

// requestID is the id a trusted proxy in front gave the request, else a new
// one: a client's own X-Request-Id would let it plant misleading ids (or
// text crafted for whoever reads the logs) in the gateway's and the app's
// logs.
func (l *accessLog) requestID(r *http.Request) string {
	if v := r.Header[requestIDHeader]; len(v) == 1 && validRequestID(v[0]) && len(l.trusted) > 0 &&
		httpsafe.PeerTrusted(r, l.trusted) {
		return v[0]
	}
	var b [40]byte
	out := append(b[:0], l.idPrefix...)
	out = append(out, '-')
	out = strconv.AppendUint(out, l.seq.Add(1), 36)
	return string(out)
}

// validRequestID accepts what common proxies generate (UUIDs, hex, base64)
// and nothing that could break a log line or a header.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' ||
			c == '.' || c == ':' || c == '+' || c == '/' || c == '=' || c == '@') {
			return false
		}
	}
	return true
}

// begin gives the request its id (to the app in the request, to the client
// in the answer) and returns the writer that records status and size.
func (l *accessLog) begin(w http.ResponseWriter, r *http.Request) (*accessRecorder, string) {
	id := l.requestID(r)
	v := new([2]string) // one allocation for both; capped slices (see proxy.serve)
	v[0], v[1] = id, id
	r.Header[requestIDHeader] = v[0:1:1]
	w.Header()[requestIDHeader] = v[1:2:2]
	rec := l.recs.Get().(*accessRecorder)
	*rec = accessRecorder{ResponseWriter: w}
	return rec, id
}

// end writes the line for a finished request and recycles rec.
func (l *accessLog) end(rec *accessRecorder, r *http.Request, id, user, cleaned string, start time.Time) {
	now := time.Now()
	bp := l.bufs.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"time":"`...)
	b = now.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, `","level":"INFO","msg":"access","request_id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"user":`...)
	b = appendJSONString(b, user)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, l.pick(r.Host, cleaned))
	b = append(b, `,"method":`...)
	b = appendJSONString(b, r.Method)
	b = append(b, `,"path":`...)
	if len(cleaned) > 2048 {
		cleaned = cleaned[:2048]
	}
	b = appendJSONString(b, cleaned)
	b = append(b, `,"status":`...)
	status := rec.status
	if status == 0 {
		status = http.StatusOK // nothing written: net/http answers 200
	}
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, rec.bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(now.Sub(start).Microseconds())/1000, 'f', 3, 64)
	b = append(b, "}\n"...)
	l.mu.Lock()
	_, _ = l.w.Write(b)
	l.mu.Unlock()
	*bp = b
	l.bufs.Put(bp)
	*rec = accessRecorder{}
	l.recs.Put(rec)
}

// accessRecorder notes the status and body size of an answer. Unwrap lets
// http.ResponseController (which the reverse proxy uses to flush and to
// hijack for WebSocket) reach the connection's own writer.
type accessRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

// WriteHeader implements http.ResponseWriter; informational answers (103
// Early Hints) come before the final status and are not it.
func (a *accessRecorder) WriteHeader(code int) {
	if a.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		a.status = code
	}
	a.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (a *accessRecorder) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	n, err := a.ResponseWriter.Write(p)
	a.bytes += int64(n)
	return n, err
}

// Unwrap returns the wrapped writer (for http.ResponseController).
func (a *accessRecorder) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced, and <, > and &
// escaped as encoding/json does, so a line is safe to paste into HTML.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
