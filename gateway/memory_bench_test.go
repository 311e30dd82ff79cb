package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemory100kSessions states what one replica holds for 100k live
// sessions (decoded-cookie cache, last-seen tracker, cached user state for
// 1,000 users) and for 100k revoked session ids. It reports bytes, not time;
// run with -benchtime 1x.
func BenchmarkMemory100kSessions(b *testing.B) {
	const users, perUser = 1000, 100
	srv := redistest.Start(b)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, srv.URL(), log)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	mirror := store.NewMirror(st, log)
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go mirror.Run(mctx)
	if err := mirror.WaitSynced(ctx); err != nil {
		b.Fatal(err)
	}
	s, err := NewSessions(SessionOptions{
		Secrets: []string{"0123456789abcdef0123456789abcdef"}, CookieName: "s",
		Lifetime: 24 * time.Hour, IdleTimeout: time.Hour,
	}, st, mirror)
	if err != nil {
		b.Fatal(err)
	}
	uids := make([]string, users)
	for i := range uids {
		u := &store.User{Username: "mem" + strconv.Itoa(i), Email: fmt.Sprintf("mem%d@example.com", i), PasswordHash: "x"}
		if err := st.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		uids[i] = u.ID
	}
	now := time.Now().UnixNano()
	raw := make([][]byte, 0, users*perUser) // cookie headers, as bytes so each request gets a new string
	var records []*store.Session            // a cookie is accepted only for a session that exists
	for i := range users * perUser {
		c := &store.Claims{SessionID: store.NewSessionID(), UserID: uids[i%users], Generation: mirror.Generation(),
			IssuedAt: now, Created: now, AuthAt: now}
		v, err := securecookie.EncodeMulti("s", c, s.codecs[0])
		if err != nil {
			b.Fatal(err)
		}
		raw = append(raw, []byte("s="+v))
		t := time.Unix(0, now)
		records = append(records, &store.Session{ID: c.SessionID, UserID: c.UserID, Created: t, LastSeen: t, Expires: t.Add(24 * time.Hour)})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(records); i += 8 {
				if err := st.CreateSession(ctx, records[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	records = nil
	for b.Loop() {
		before := heapInUse()
		for i := range raw {
			// A fresh request and header string, as each real request
			// brings: the decode cache keeps one copy per session alive,
			// which counts; the rest is garbage.
			r := &http.Request{Header: http.Header{"Cookie": {string(raw[i])}}, RemoteAddr: "127.0.0.1:1"}
			if _, out := s.Authenticate(r); out != store.Valid {
				b.Fatalf("outcome %v", out)
			}
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/float64(len(raw)), "B/live-session")
		b.ReportMetric(float64(after-before)/(1<<20), "MiB/100k-sessions")

		before = heapInUse()
		exp := time.Now().Add(time.Hour).Unix()
		for i := range 100_000 {
			mirror.ApplyRevocation(store.NewSessionID()+strconv.Itoa(i%10), exp)
		}
		after = heapInUse()
		b.ReportMetric(float64(after-before)/100_000, "B/revoked-id")
		b.ReportMetric(float64(after-before)/(1<<20), "MiB/100k-revoked")
	}
	runtime.KeepAlive(raw)
	runtime.KeepAlive(s)
}
