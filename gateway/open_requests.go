package gateway

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/gateway/store"
)

// openRequests keeps the proxied requests of signed-in sessions while they
// run, so that a session ended meanwhile — that device signed out, every
// device signed out, the user disabled, the absolute lifetime over — loses
// the requests it still has open. A request is checked when it starts; a
// WebSocket, a server-sent event stream, a long poll or a slow download
// would otherwise go on for as long as its connection lasts, whatever
// happened to the session.
//
// Every openCheckEvery the open requests are checked again against the
// in-memory revocation mirror (no Redis round trip), and those whose
// session is no longer alive have their context cancelled, which makes the
// reverse proxy drop both the upstream and the client connection. While
// the mirror is not current, the check asks Redis, at most once a second;
// if Redis cannot answer either, open requests are left alone (they were
// checked when they started, and without Redis nothing can be revoked).
type openRequests struct {
	next   atomic.Uint32
	shards [openShards]openShard
}

const (
	openShards       = 16
	openCheckEvery   = 50 * time.Millisecond
	openDirectPeriod = time.Second
)

type openShard struct {
	mu sync.Mutex
	// m is keyed by the request handed to the proxy; the entry is held in
	// the map itself, which saves an allocation per request.
	m map[*http.Request]openRequest
	_ [40]byte // keep shards on separate cache lines
}

// openRequest is one tracked request.
type openRequest struct {
	claims store.Claims
	cancel context.CancelFunc
}

// openTicket names a tracked request for untrack.
type openTicket struct {
	r     *http.Request
	shard uint32
}

func newOpenRequests() *openRequests {
	o := &openRequests{}
	for i := range o.shards {
		o.shards[i].m = make(map[*http.Request]openRequest)
	}
	return o
}

// track registers a request of the signed-in session cur and returns it
// with a context that is cancelled if the session ends while it runs. The
// caller must call untrack when the request is done.
func (o *openRequests) track(r *http.Request, cur *store.Principal) (*http.Request, openTicket) {
	ctx, cancel := context.WithCancel(r.Context())
	t := openTicket{r: r.WithContext(ctx), shard: o.next.Add(1) % openShards}
	sh := &o.shards[t.shard]
	sh.mu.Lock()
	sh.m[t.r] = openRequest{claims: cur.Claims, cancel: cancel}
	sh.mu.Unlock()
	return t.r, t
}

// untrack forgets a finished request.
func (o *openRequests) untrack(t openTicket) {
	sh := &o.shards[t.shard]
	sh.mu.Lock()
	req, ok := sh.m[t.r]
	delete(sh.m, t.r)
	sh.mu.Unlock()
	if ok {
		req.cancel()
	}
}

// run checks the open requests until ctx ends.
func (o *openRequests) run(ctx context.Context, s *Sessions) {
	t := time.NewTicker(openCheckEvery)
	defer t.Stop()
	var buf []openRequest
	var lastDirect time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		direct := !s.mirror.Ready()
		if direct {
			if time.Since(lastDirect) < openDirectPeriod {
				continue
			}
			lastDirect = time.Now()
		}
		buf = buf[:0]
		for i := range o.shards {
			sh := &o.shards[i]
			sh.mu.Lock()
			for _, req := range sh.m {
				buf = append(buf, req)
			}
			sh.mu.Unlock()
		}
		if len(buf) == 0 {
			continue
		}
		pass, cancel := context.WithTimeout(ctx, time.Second)
		for i := range buf {
			req := &buf[i]
			alive, known := s.stillAlive(pass, &req.claims)
			if !known {
				break // Redis unreachable: try again later
			}
			if !alive {
				req.cancel()
			}
		}
		cancel()
		clear(buf) // no references to finished requests until the next pass
	}
}

// stillAlive reports whether the session of a request that was let through
// may go on; known is false when that cannot be told (Redis unreachable
// while the mirror is stale).
func (s *Sessions) stillAlive(ctx context.Context, c *store.Claims) (alive, known bool) {
	if s.now().UnixNano()-c.Created > int64(s.lifetime) {
		return false, true
	}
	_, verdict, err := s.mirror.Check(ctx, c.UserID, c.SessionID, c.Generation, c.IssuedAt)
	if err != nil {
		return true, false
	}
	return verdict == store.Alive, true
}
