// Command soakrig is the driver of bench/soak.sh: a real redis-server, two
// replicas of the real gateway binary in front of one app, many signed-in
// sessions under steady proxied load, while sessions are revoked, people
// sign out everywhere and change their passwords through the real API. Every
// revoked cookie is probed on both replicas once the mirror's bound has
// passed; an acceptance after the bound is a violation. RSS and goroutines
// of both replicas are sampled from their /metrics every 10 s.
//
//	soakrig -gateway ./gateway -duration 10m
package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const cookieName = "soak_session"

type options struct {
	gateway, redis string
	duration       time.Duration
	users, perUser int
	rate           int
	workers        int
	actionEvery    time.Duration
	bound          time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.gateway, "gateway", "./gateway", "gateway binary")
	flag.StringVar(&o.redis, "redis-server", "redis-server", "redis-server binary")
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the load and the revocations run")
	flag.IntVar(&o.users, "users", 50, "users")
	flag.IntVar(&o.perUser, "sessions-per-user", 4, "signed-in sessions kept per user")
	flag.IntVar(&o.rate, "rate", 1000, "proxied requests per second, both replicas together")
	flag.IntVar(&o.workers, "workers", 32, "concurrent load connections")
	flag.DurationVar(&o.actionEvery, "action-every", time.Second, "time between revocation actions")
	flag.DurationVar(&o.bound, "bound", 100*time.Millisecond, "revocation bound: after it every replica must refuse a revoked cookie")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "soakrig:", err)
		os.Exit(1)
	}
}

// rig is the running system and the driver's view of it.
type rig struct {
	o        options
	replicas []replica
	client   *http.Client

	mu      sync.Mutex
	live    []*session            // cookies the load may use
	byUser  map[string][]*session // live sessions per user
	pw      map[string]string     // current password per user
	revoked []revokedCookie       // every cookie revoked so far

	requests, ok, refusedLive, errors5xx, transport atomic.Int64
	probes, acceptedBefore, violations              atomic.Int64
	actions                                         map[string]*atomic.Int64
	worstAccepted                                   atomic.Int64 // ns after revocation of the latest acceptance seen
}

type replica struct{ base, ops string }

type session struct {
	user, cookie, id string
}

type revokedCookie struct {
	cookie string
	at     time.Time
}

func run(ctx context.Context, o options) error {
	tmp, err := os.MkdirTemp("", "soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var procs []*exec.Cmd
	defer func() {
		// Gateways first, Redis last, so the replicas do not log an outage.
		for i := len(procs) - 1; i >= 0; i-- {
			_ = procs[i].Process.Signal(syscall.SIGTERM)
			_ = procs[i].Wait()
		}
	}()

	redisPort := freePort()
	rs := exec.Command(o.redis, "--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp)
	if err := rs.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	procs = append(procs, rs)
	redisURL := fmt.Sprintf("redis://127.0.0.1:%d/0", redisPort)

	app := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "app: "+r.Header.Get("X-Forwarded-User"))
	})}
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go app.Serve(appLn)
	defer app.Close()

	env := append(os.Environ(),
		"GATEWAY_REDIS_URL="+redisURL, "GATEWAY_SECRET="+rand.Text()+rand.Text(),
		"GATEWAY_UPSTREAM=http://"+appLn.Addr().String(), "GATEWAY_COOKIE_SECURE=false",
		"GATEWAY_COOKIE_NAME="+cookieName, "GATEWAY_RATE_LIMIT_PER_SESSION=off",
		"GATEWAY_SESSION_REAUTH_WINDOW=24h", "GATEWAY_LOG_LEVEL=warn", "GATEWAY_LOG_FORMAT=text")
	r := &rig{o: o, byUser: map[string][]*session{}, pw: map[string]string{}, actions: map[string]*atomic.Int64{}}
	for _, a := range []string{"revoke", "signout_all", "password", "sign_in"} {
		r.actions[a] = new(atomic.Int64)
	}
	for i := range 2 {
		listen, ops := freePort(), freePort()
		gw := exec.Command(o.gateway, "serve")
		gw.Env = append(env, fmt.Sprintf("GATEWAY_LISTEN=127.0.0.1:%d", listen), fmt.Sprintf("GATEWAY_OPS_LISTEN=127.0.0.1:%d", ops))
		gw.Stderr = prefixed(fmt.Sprintf("replica %d: ", i+1))
		if err := gw.Start(); err != nil {
			return fmt.Errorf("start gateway: %w", err)
		}
		procs = append(procs, gw)
		r.replicas = append(r.replicas, replica{base: fmt.Sprintf("http://127.0.0.1:%d", listen), ops: fmt.Sprintf("http://127.0.0.1:%d", ops)})
	}
	r.client = &http.Client{
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, rep := range r.replicas {
		if err := waitReady(ctx, rep.ops); err != nil {
			return err
		}
	}

	fmt.Printf("creating %d users with `gateway users add` and signing in %d sessions\n", o.users, o.users*o.perUser)
	setup := time.Now()
	err = parallel(4, o.users, func(u int) error {
		name := fmt.Sprintf("soak%03d", u)
		pw := rand.Text()[:20]
		add := exec.CommandContext(ctx, o.gateway, "users", "add", name, "--email", name+"@example.com", "--password-stdin")
		add.Env, add.Stdin = env, strings.NewReader(pw+"\n")
		if out, err := add.CombinedOutput(); err != nil {
			return fmt.Errorf("users add %s: %v: %s", name, err, out)
		}
		r.mu.Lock()
		r.pw[name] = pw
		r.mu.Unlock()
		return nil
	})
	if err == nil {
		err = parallel(4, o.users*o.perUser, func(i int) error { return r.signInRetry(ctx, fmt.Sprintf("soak%03d", i%o.users)) })
	}
	if err != nil {
		return err
	}
	fmt.Printf("set up in %v\n", time.Since(setup).Round(time.Second))

	fmt.Printf("soak: %v, %d req/s over %d connections to 2 replicas, one revocation action every %v, bound %v\n",
		o.duration, o.rate, o.workers, o.actionEvery, o.bound)
	runCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var wg sync.WaitGroup
	samples := make([][]sample, len(r.replicas))
	wg.Add(3)
	go func() { defer wg.Done(); r.load(runCtx) }()
	go func() { defer wg.Done(); r.churn(runCtx) }()
	go func() { defer wg.Done(); samples = r.sample(runCtx) }()
	start := time.Now()
	wg.Wait()
	r.report(time.Since(start), samples)
	if r.violations.Load() > 0 {
		return fmt.Errorf("%d requests with a revoked cookie were accepted after the bound", r.violations.Load())
	}
	return nil
}

// signIn signs user in on a random replica and adds the session to the
// pool, with its id (from GET me/sessions) so it can be revoked by id.
func (r *rig) signIn(ctx context.Context, user string) error {
	r.mu.Lock()
	pw := r.pw[user]
	r.mu.Unlock()
	rep := r.replicas[mrand.IntN(len(r.replicas))]
	form := url.Values{"username": {user}, "password": {pw}, "rd": {"/"}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, rep.base+"/.gateway/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("sign in %s: %w", user, err)
	}
	resp.Body.Close()
	cookie := sessionCookie(resp)
	if resp.StatusCode != http.StatusSeeOther || cookie == "" {
		return fmt.Errorf("sign in %s: status %d", user, resp.StatusCode)
	}
	s := &session{user: user, cookie: cookie}
	var list struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	if err := r.api(ctx, rep, s.cookie, http.MethodGet, "/me/sessions", "", &list); err != nil {
		return err
	}
	for _, x := range list.Sessions {
		if x.Current {
			s.id = x.ID
		}
	}
	r.mu.Lock()
	r.live = append(r.live, s)
	r.byUser[user] = append(r.byUser[user], s)
	r.mu.Unlock()
	r.actions["sign_in"].Add(1)
	return nil
}

// signInRetry signs in, trying again a few times when a replica answers
// 503: on a shared, overloaded machine a Redis call can pass its deadline,
// and the gateway then fails closed.
func (r *rig) signInRetry(ctx context.Context, user string) error {
	var err error
	for attempt := range 5 {
		if err = r.signIn(ctx, user); err == nil || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
	}
	return err
}

// api calls the person's JSON API with a session cookie.
func (r *rig) api(ctx context.Context, rep replica, cookie, method, path, body string, out any) error {
	return r.apiResp(ctx, rep, cookie, method, path, body, out, nil)
}

func (r *rig) apiResp(ctx context.Context, rep replica, cookie, method, path, body string, out any, fresh *string) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(ctx, method, rep.base+"/.gateway/api/v1"+path, rd)
	req.Header.Set("Cookie", cookieName+"="+cookie)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: status %d: %.200s", method, path, resp.StatusCode, b)
	}
	if fresh != nil {
		*fresh = sessionCookie(resp)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

func sessionCookie(resp *http.Response) string {
	for _, c := range resp.Cookies() {
		if c.Name == cookieName && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// churn runs one revocation action per tick, each through the real API,
// then signs in again to keep the number of sessions.
func (r *rig) churn(ctx context.Context) {
	t := time.NewTicker(r.o.actionEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		user := fmt.Sprintf("soak%03d", mrand.IntN(r.o.users))
		var err error
		switch n := mrand.IntN(4); {
		case n < 2:
			err = r.revokeOne(ctx, user)
		case n == 2:
			err = r.signOutAll(ctx, user)
		default:
			err = r.changePassword(ctx, user)
		}
		if err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "action:", err)
		}
		for ctx.Err() == nil {
			r.mu.Lock()
			missing := len(r.byUser[user]) < r.o.perUser
			r.mu.Unlock()
			if !missing {
				break
			}
			if err := r.signIn(ctx, user); err != nil {
				if ctx.Err() == nil {
					fmt.Fprintln(os.Stderr, "sign-in:", err)
				}
				break
			}
		}
	}
}

// take removes sessions of user from the pool before they are revoked, so
// the load never uses a cookie that is being revoked as a live one.
func (r *rig) take(user string, which func(*session) bool) []*session {
	r.mu.Lock()
	defer r.mu.Unlock()
	var taken, kept []*session
	for _, s := range r.byUser[user] {
		if which(s) {
			taken = append(taken, s)
		} else {
			kept = append(kept, s)
		}
	}
	r.byUser[user] = kept
	live := r.live[:0]
	for _, s := range r.live {
		if s.user != user || !which(s) {
			live = append(live, s)
		}
	}
	r.live = live
	return taken
}

func (r *rig) markRevoked(at time.Time, ss ...*session) {
	r.mu.Lock()
	for _, s := range ss {
		r.revoked = append(r.revoked, revokedCookie{cookie: s.cookie, at: at})
	}
	r.mu.Unlock()
	for _, s := range ss {
		go r.probe(s.cookie, at)
	}
}

// revokeOne: one session of the user signs out another one by id
// (POST me/sessions/{id}/revoke).
func (r *rig) revokeOne(ctx context.Context, user string) error {
	r.mu.Lock()
	ss := r.byUser[user]
	if len(ss) < 2 {
		r.mu.Unlock()
		return nil
	}
	actor, victim := ss[0], ss[1+mrand.IntN(len(ss)-1)]
	r.mu.Unlock()
	r.take(user, func(s *session) bool { return s == victim })
	rep := r.replicas[mrand.IntN(len(r.replicas))]
	if err := r.api(ctx, rep, actor.cookie, http.MethodPost, "/me/sessions/"+victim.id+"/revoke", "", nil); err != nil {
		return err
	}
	r.markRevoked(time.Now(), victim)
	r.actions["revoke"].Add(1)
	return nil
}

// signOutAll: POST me/signout-all keeping the current device, which gets a
// fresh cookie; every other session and the actor's old cookie die.
func (r *rig) signOutAll(ctx context.Context, user string) error {
	all := r.take(user, func(*session) bool { return true })
	if len(all) == 0 {
		return nil
	}
	actor := all[0]
	var fresh string
	rep := r.replicas[mrand.IntN(len(r.replicas))]
	if err := r.apiResp(ctx, rep, actor.cookie, http.MethodPost, "/me/signout-all", `{"keep_current":true}`, nil, &fresh); err != nil {
		return err
	}
	r.markRevoked(time.Now(), all...)
	r.actions["signout_all"].Add(1)
	return r.keep(user, actor, fresh)
}

// changePassword: POST me/password, which signs every other session out
// and gives the actor a fresh cookie.
func (r *rig) changePassword(ctx context.Context, user string) error {
	all := r.take(user, func(*session) bool { return true })
	if len(all) == 0 {
		return nil
	}
	actor := all[0]
	r.mu.Lock()
	cur := r.pw[user]
	r.mu.Unlock()
	next := rand.Text()[:20]
	body, _ := json.Marshal(map[string]string{"current_password": cur, "new_password": next})
	var fresh string
	rep := r.replicas[mrand.IntN(len(r.replicas))]
	if err := r.apiResp(ctx, rep, actor.cookie, http.MethodPost, "/me/password", string(body), nil, &fresh); err != nil {
		return err
	}
	r.mu.Lock()
	r.pw[user] = next
	r.mu.Unlock()
	r.markRevoked(time.Now(), all...)
	r.actions["password"].Add(1)
	return r.keep(user, actor, fresh)
}

// keep puts the actor back in the pool under its fresh cookie.
func (r *rig) keep(user string, actor *session, fresh string) error {
	if fresh == "" {
		return fmt.Errorf("%s: no fresh cookie for the kept session", user)
	}
	s := &session{user: user, cookie: fresh, id: actor.id}
	r.mu.Lock()
	r.live = append(r.live, s)
	r.byUser[user] = append(r.byUser[user], s)
	r.mu.Unlock()
	return nil
}

// probe asks both replicas with a revoked cookie just after the bound, a
// little later, and once more a second later.
func (r *rig) probe(cookie string, at time.Time) {
	for _, after := range []time.Duration{r.o.bound, r.o.bound + 50*time.Millisecond, r.o.bound + time.Second} {
		time.Sleep(time.Until(at.Add(after)))
		for _, rep := range r.replicas {
			r.probes.Add(1)
			r.send(rep, cookie, at)
		}
	}
}

// send makes one proxied request; revokedAt is zero for a live cookie.
func (r *rig) send(rep replica, cookie string, revokedAt time.Time) {
	req, _ := http.NewRequest(http.MethodGet, rep.base+"/app", nil)
	req.Header.Set("Cookie", cookieName+"="+cookie)
	sent := time.Now()
	resp, err := r.client.Do(req)
	r.requests.Add(1)
	if err != nil {
		r.transport.Add(1)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		r.errors5xx.Add(1)
	case resp.StatusCode == http.StatusOK && !revokedAt.IsZero():
		if late := sent.Sub(revokedAt); late > r.o.bound {
			r.violations.Add(1)
			fmt.Fprintf(os.Stderr, "VIOLATION: revoked cookie accepted by %s %v after its revocation\n", rep.base, late)
		} else {
			r.acceptedBefore.Add(1)
			for {
				w := r.worstAccepted.Load()
				if int64(late) <= w || r.worstAccepted.CompareAndSwap(w, int64(late)) {
					break
				}
			}
		}
	case resp.StatusCode == http.StatusOK:
		r.ok.Add(1)
	case revokedAt.IsZero():
		r.refusedLive.Add(1)
	}
}

// load sends o.rate requests a second from o.workers goroutines: most with
// live cookies, one in ten with a recently revoked one.
func (r *rig) load(ctx context.Context) {
	tick := time.Second / time.Duration(max(r.o.rate, 1))
	jobs := make(chan struct{}, r.o.workers)
	var wg sync.WaitGroup
	for range r.o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				rep := r.replicas[mrand.IntN(len(r.replicas))]
				r.mu.Lock()
				var cookie string
				var at time.Time
				if n := len(r.revoked); n > 0 && mrand.IntN(10) == 0 {
					rc := r.revoked[n-1-mrand.IntN(min(n, 50))]
					cookie, at = rc.cookie, rc.at
				} else if len(r.live) > 0 {
					cookie = r.live[mrand.IntN(len(r.live))].cookie
				}
				r.mu.Unlock()
				if cookie != "" {
					r.send(rep, cookie, at)
				}
			}
		}()
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			close(jobs)
			wg.Wait()
			return
		case <-t.C:
			select {
			case jobs <- struct{}{}:
			default: // all workers busy: the rate is more than the system serves
			}
		}
	}
}

type sample struct {
	at         time.Duration
	rss        float64
	goroutines float64
}

// sample reads RSS and goroutines of each replica every 10 s.
func (r *rig) sample(ctx context.Context) [][]sample {
	out := make([][]sample, len(r.replicas))
	start := time.Now()
	take := func() {
		for i, rep := range r.replicas {
			rss, g, err := readMetrics(rep.ops)
			if err != nil {
				fmt.Fprintln(os.Stderr, "metrics:", err)
				continue
			}
			out[i] = append(out[i], sample{at: time.Since(start), rss: rss, goroutines: g})
		}
	}
	// The first sample is taken 10 s into the load, once connections and
	// buffers are warm, so start-to-end compares like with like.
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			take()
			return out
		case <-t.C:
			take()
		}
	}
}

func readMetrics(ops string) (rss, goroutines float64, err error) {
	resp, err := http.Get(ops + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "process_resident_memory_bytes":
			rss = v
		case "go_goroutines":
			goroutines = v
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("no process_resident_memory_bytes in /metrics")
	}
	return rss, goroutines, sc.Err()
}

func (r *rig) report(took time.Duration, samples [][]sample) {
	time.Sleep(r.o.bound + 1200*time.Millisecond) // let the last probes finish
	r.mu.Lock()
	revoked := len(r.revoked)
	r.mu.Unlock()
	fmt.Printf("\n== soak result (%v)\n", took.Round(time.Second))
	fmt.Printf("requests             %d (%.0f/s)\n", r.requests.Load(), float64(r.requests.Load())/took.Seconds())
	fmt.Printf("  live cookie 200    %d\n", r.ok.Load())
	fmt.Printf("  live cookie refused %d\n", r.refusedLive.Load())
	fmt.Printf("  5xx                %d\n", r.errors5xx.Load())
	fmt.Printf("  transport errors   %d\n", r.transport.Load())
	fmt.Printf("actions              revoke %d, sign out everywhere %d, password change %d; sign-ins %d\n",
		r.actions["revoke"].Load(), r.actions["signout_all"].Load(), r.actions["password"].Load(), r.actions["sign_in"].Load())
	fmt.Printf("revoked cookies      %d, probed %d times on both replicas after the bound\n", revoked, r.probes.Load())
	fmt.Printf("revoked accepted     %d within the %v bound (latest %v after revocation)\n",
		r.acceptedBefore.Load(), r.o.bound, time.Duration(r.worstAccepted.Load()).Round(time.Microsecond))
	fmt.Printf("REVOKED ACCEPTED AFTER THE BOUND: %d\n", r.violations.Load())
	for i, ss := range samples {
		if len(ss) == 0 {
			continue
		}
		maxRSS, maxG := 0.0, 0.0
		for _, s := range ss {
			maxRSS, maxG = math.Max(maxRSS, s.rss), math.Max(maxG, s.goroutines)
		}
		first, last := ss[0], ss[len(ss)-1]
		fmt.Printf("replica %d            RSS MiB start %.1f end %.1f max %.1f; goroutines start %.0f end %.0f max %.0f (%d samples)\n",
			i+1, first.rss/(1<<20), last.rss/(1<<20), maxRSS/(1<<20), first.goroutines, last.goroutines, maxG, len(ss))
		var b strings.Builder
		for _, s := range ss {
			fmt.Fprintf(&b, " %s:%.1f/%.0f", s.at.Round(time.Second), s.rss/(1<<20), s.goroutines)
		}
		fmt.Printf("  samples (time:RSS MiB/goroutines)%s\n", b.String())
	}
}

func waitReady(ctx context.Context, ops string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if resp, err := http.Get(ops + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("gateway at %s never became ready", ops)
}

// parallel runs f(0..n-1) on at most k goroutines and returns the first error.
func parallel(k, n int, f func(int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ferr error
	)
	sem := make(chan struct{}, k)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				mu.Lock()
				ferr = cmp.Or(ferr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ferr
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// prefixed passes a child's log lines to stderr with a prefix.
func prefixed(prefix string) io.Writer {
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintln(os.Stderr, prefix+sc.Text())
		}
	}()
	return pw
}
