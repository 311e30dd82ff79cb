package main

import (
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/authgate/gateway/notify"
)

// The demo sends its security mail to a box in memory instead of an SMTP
// server, and shows it on a page of its own listener (--mail-listen), so a
// newcomer reads the new-device alert and clicks "This wasn't me" without
// setting anything up. The terminal gets one line per mail, without its
// links (they carry one-time tokens); the page shows the whole mail.

// demoMailbox serves the box's mails, newest first.
func demoMailbox(box *notify.MemoryBox) http.Handler {
	page := template.Must(template.New("mail").Funcs(template.FuncMap{"links": demoLinks}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Demo mailbox</title><style>` + demoCSS + `
article{border:1px solid var(--line);border-radius:6px;padding:0 1rem;margin:1rem 0}pre{white-space:pre-wrap;overflow-wrap:anywhere}</style></head>
<body><h1>Demo mailbox</h1>
<p>Mail the demo gateway sent (kept in memory, newest first). A real gateway sends it through <code>smtp.url</code>.</p>
<p><a href="/" id="reload">Check for new mail</a></p>
{{range .}}<article class="mail"><h2>{{.Subject}}</h2><p>To <strong>{{.To}}</strong> at {{.At.Format "15:04:05"}}</p>
<pre>{{links .Text}}</pre></article>{{else}}<p id="empty">No mail yet. Sign in as <code>demo</code> in two different browsers (or a private window) to get a new-device alert.</p>{{end}}
</body></html>`))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		_ = page.Execute(w, box.Mails())
	})
}

var demoURL = regexp.MustCompile(`https?://[^\s<>"]+`)

// demoLinks escapes a mail's text and makes its links clickable.
func demoLinks(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range demoURL.FindAllStringIndex(text, -1) {
		b.WriteString(template.HTMLEscapeString(text[last:m[0]]))
		u := template.HTMLEscapeString(text[m[0]:m[1]])
		b.WriteString(`<a href="` + u + `" target="_blank" rel="noreferrer">` + u + `</a>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String())
}

// startDemoMailbox listens on addr and serves the box there; each mail is
// announced on out. It returns the page's URL and a stop function.
func startDemoMailbox(addr string, box *notify.MemoryBox, out io.Writer) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("demo: %v; choose another address with --mail-listen, e.g. --mail-listen 127.0.0.1:0 for any free port", err)
	}
	url := "http://" + demoLoopback(ln.Addr().String()) + "/"
	var mu sync.Mutex
	box.OnReceive = func(r notify.Received) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "[demo mail] %s to %s: %q — read it at %s\n", r.At.Format(time.TimeOnly), r.To, r.Subject, url)
	}
	srv := &http.Server{Handler: demoMailbox(box), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return url, func() { srv.Close() }, nil
}
