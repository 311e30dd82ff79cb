// Package redistest runs a real redis-server for a test.
//
// Each call of Start runs a private redis-server on a free port of 127.0.0.1,
// with persistence off and its working directory in tb.TempDir(). The server
// stops when the test ends. If redis-server is not installed, the test is
// skipped, or fails when GATEWAY_TEST_REQUIRE_REDIS=1.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/gateway/internal/testkit/testenv"
)

const (
	// startTimeout is how long Start and Restart wait for the server to
	// answer PING.
	startTimeout = 15 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	stopTimeout = 5 * time.Second
	// startAttempts is how often Start tries a new port when the bind fails.
	startAttempts = 5
)

// Server is a redis-server process that runs for one test.
type Server struct {
	// Addr is the address of the server, "127.0.0.1:N". It stays the same
	// across Restart.
	Addr string

	bin        string
	dir        string
	port       int
	persistent bool

	mu   sync.Mutex
	proc *process // nil when stopped
}

// process is one run of redis-server.
type process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // result of cmd.Wait, valid after done
	// paused is set while a cluster node is stopped with SIGSTOP.
	paused bool
}

// Start runs a new redis-server on a free loopback port and waits until it
// answers PING. The server is stopped when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, false)
}

// StartPersistent is Start with an append-only file fsynced on every write,
// so Restart brings the data back, as a production Redis should.
func StartPersistent(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, true)
}

func start(tb testing.TB, persistent bool) *Server {
	tb.Helper()
	bin := testenv.LookPath(tb, "redis-server", testenv.RequireRedis)
	// TempDir first, so that its removal runs after the server has stopped
	// (cleanups run last-in first-out).
	s := &Server{bin: bin, dir: tb.TempDir(), persistent: persistent}
	tb.Cleanup(func() { s.stop(tb) })

	var lastErr error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("redistest: pick a free port: %v", err)
		}
		s.port = port
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = s.start()
		if err == nil {
			return s
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	tb.Fatalf("redistest: start redis-server: %v", lastErr)
	return nil
}

// URL returns the address of the server as a URL for redis.ParseURL, with
// database 0: "redis://127.0.0.1:N/0".
func (s *Server) URL() string {
	return "redis://" + s.Addr + "/0"
}

// Client returns a new go-redis client for the server. It is closed when tb
// ends.
func (s *Server) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop stops the server now. The port and the directory stay reserved for
// Restart. Commands sent to Addr fail until Restart.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.stop(tb)
}

// Restart starts the server again on the same port and directory, and waits
// until it answers PING. If the server runs, Restart stops it first.
// Persistence is off, so the server comes back empty: tests use Restart to
// simulate the loss of all data. The statistics of INFO start from zero too.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.stop(tb)
	// The old process has exited, so the port is normally free at once, as
	// redis-server sets SO_REUSEADDR. Retry for a moment in case another
	// process took it meanwhile.
	var err error
	for attempt := range startAttempts {
		if err = s.start(); err == nil || !errors.Is(err, errAddrInUse) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("redistest: restart redis-server on %s: %v", s.Addr, err)
	}
}

// FlushAll deletes every key of every database. It sends one FLUSHALL
// command, which INFO counts.
func (s *Server) FlushAll(tb testing.TB) {
	tb.Helper()
	if _, err := s.do("FLUSHALL"); err != nil {
		tb.Fatalf("redistest: FLUSHALL: %v", err)
	}
}

// CommandCount returns how many times the server ran the command cmd since it
// started, from INFO commandstats. The name is case-insensitive, such as
// "get" or "GET". A subcommand is named as Redis names it, such as
// "client|setinfo"; a container name such as "client" counts all its
// subcommands. A command that never ran counts zero.
func (s *Server) CommandCount(tb testing.TB, cmd string) int64 {
	tb.Helper()
	stats := s.commandStats(tb)
	cmd = strings.ToLower(cmd)
	n := stats[cmd]
	if !strings.Contains(cmd, "|") {
		for name, calls := range stats {
			if strings.HasPrefix(name, cmd+"|") {
				n += calls
			}
		}
	}
	return n
}

// TotalCommands returns how many commands the server ran since it started,
// from INFO commandstats, without the INFO commands that this package sends.
// The number includes the few commands of the PING check of Start and
// Restart, so compare two values of TotalCommands rather than one value with
// zero.
func (s *Server) TotalCommands(tb testing.TB) int64 {
	tb.Helper()
	var n int64
	for name, calls := range s.commandStats(tb) {
		if name == "info" {
			continue
		}
		n += calls
	}
	return n
}

// commandStats returns the calls of each command of INFO commandstats, by
// lower-case command name.
func (s *Server) commandStats(tb testing.TB) map[string]int64 {
	tb.Helper()
	// A plain connection with no handshake sends exactly one command, INFO,
	// so the helper adds nothing else to the statistics.
	reply, err := s.do("INFO", "commandstats")
	if err != nil {
		tb.Fatalf("redistest: INFO commandstats: %v", err)
	}
	stats, err := parseCommandStats(reply)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return stats
}

// parseCommandStats parses the text of INFO commandstats. A line looks like
// "cmdstat_get:calls=2,usec=10,usec_per_call=5.00,rejected_calls=0,failed_calls=0".
func parseCommandStats(info string) (map[string]int64, error) {
	stats := make(map[string]int64)
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, "cmdstat_")
		if !ok {
			continue
		}
		name, fields, ok := strings.Cut(rest, ":")
		if !ok {
			return nil, fmt.Errorf("bad commandstats line %q", line)
		}
		found := false
		for field := range strings.SplitSeq(fields, ",") {
			v, ok := strings.CutPrefix(field, "calls=")
			if !ok {
				continue
			}
			calls, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad commandstats line %q: %v", line, err)
			}
			stats[strings.ToLower(name)] += calls
			found = true
			break
		}
		if !found {
			return nil, fmt.Errorf("commandstats line %q has no calls", line)
		}
	}
	return stats, sc.Err()
}

var errAddrInUse = errors.New("address already in use")

// start runs redis-server on s.port and waits until it answers PING.
func (s *Server) start() error {
	aof := "no"
	if s.persistent {
		aof = "yes"
	}
	cmd := exec.Command(s.bin,
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(s.port),
		"--save", "",
		"--appendonly", aof,
		"--appendfsync", "always",
		"--dir", s.dir,
		"--daemonize", "no",
		"--protected-mode", "yes",
	)
	cmd.Dir = s.dir
	p, err := startProcess(cmd)
	if err != nil {
		return err
	}

	if err := s.waitReady(p); err != nil {
		killProcess(p)
		output := p.out.String()
		if strings.Contains(output, "Address already in use") {
			err = fmt.Errorf("%w: %v", errAddrInUse, err)
		}
		return fmt.Errorf("%v\nredis-server output:\n%s", err, output)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// waitReady waits until the server of p answers PING, p exits, or the start
// timeout passes.
func (s *Server) waitReady(p *process) error {
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for {
		select {
		case <-p.done:
			return fmt.Errorf("redis-server exited before it answered PING: %v", p.err)
		default:
		}
		if lastErr = s.ping(); lastErr == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server did not answer PING within %v: %v", startTimeout, lastErr)
		}
		select {
		case <-p.done:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ping sends one PING with go-redis. It first checks that the port accepts
// connections, because a go-redis pool that fails to dial logs the failure
// and then waits a second before it dials again.
func (s *Server) ping() error {
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return err
	}
	_ = conn.Close()

	c := redis.NewClient(&redis.Options{
		Addr:            s.Addr,
		DialTimeout:     time.Second,
		ReadTimeout:     time.Second,
		WriteTimeout:    time.Second,
		MaxRetries:      -1,
		DialerRetries:   1,
		PoolSize:        1,
		DisableIdentity: true,
	})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// stop stops the running process, if any: SIGTERM, then SIGKILL after
// stopTimeout. A process that ended on its own reports its output.
func (s *Server) stop(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	select {
	case <-p.done:
		tb.Errorf("redistest: redis-server on %s exited before it was stopped: %v\nredis-server output:\n%s", s.Addr, p.err, p.out.String())
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		tb.Logf("redistest: redis-server on %s did not stop within %v after SIGTERM; killing it", s.Addr, stopTimeout)
		killProcess(p)
	}
}

// killProcess kills p and waits until it has exited.
func killProcess(p *process) {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// do sends one command on a new connection and returns the reply as a
// string. It speaks RESP2 directly, so that no handshake command (HELLO,
// CLIENT SETINFO) shows up in the statistics of the server.
func (s *Server) do(args ...string) (string, error) {
	return doAddr(s.Addr, 10*time.Second, args...)
}

// doAddr sends one command to addr on a new connection, all within timeout,
// and returns the reply as a string (see readReply).
func doAddr(addr string, timeout time.Duration, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, min(timeout, 5*time.Second))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))

	var req bytes.Buffer
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write(req.Bytes()); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(conn))
}

// readReply reads one RESP2 reply that is a simple string, an error, an
// integer or a bulk string.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	default:
		return "", fmt.Errorf("unexpected reply %q", line)
	}
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// setParentDeathSignal asks Linux to kill the child when the test binary
// dies, for example on a panic or a timeout of go test, so that no
// redis-server is left behind. The field exists only on Linux, so it is set
// by reflection to keep the package portable.
func setParentDeathSignal(cmd *exec.Cmd) {
	attr := &syscall.SysProcAttr{}
	if f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig"); f.IsValid() && f.CanSet() && f.Type() == reflect.TypeOf(syscall.SIGKILL) {
		f.Set(reflect.ValueOf(syscall.SIGKILL))
	}
	cmd.SysProcAttr = attr
}

// syncBuffer is a bytes.Buffer that is safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Pause stops the server process with SIGSTOP, as a hung Redis: its port
// still accepts connections (the kernel completes the handshake) but no
// command is answered until Resume. The test's cleanup resumes it first,
// so that it can be stopped.
func (s *Server) Pause(tb testing.TB) {
	tb.Helper()
	s.signal(tb, syscall.SIGSTOP)
	tb.Cleanup(func() { s.signal(tb, syscall.SIGCONT) })
}

// Resume continues a server stopped by Pause.
func (s *Server) Resume(tb testing.TB) {
	tb.Helper()
	s.signal(tb, syscall.SIGCONT)
}

// signal sends sig to the running process; a stopped server is left alone.
func (s *Server) signal(tb testing.TB, sig syscall.Signal) {
	tb.Helper()
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		tb.Fatalf("redistest: signal %v to redis-server on %s: %v", sig, s.Addr, err)
	}
}

// startProcess starts cmd with its output captured and the parent-death
// signal set, and waits for it in the background. The parent-death signal of
// Linux goes with the thread that started the child, so the goroutine that
// starts and waits stays on its thread for as long as the child runs.
func startProcess(cmd *exec.Cmd) (*process, error) {
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	setParentDeathSignal(cmd)
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}
