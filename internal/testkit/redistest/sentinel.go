package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/gateway/internal/testkit/testenv"
)

// SentinelMaster is the name the sentinels of StartSentinel monitor.
const SentinelMaster = "gw"

// SentinelSet is a real Redis Sentinel deployment on loopback: one master,
// one replica and three sentinels (quorum 2), tuned to fail over within a few
// seconds (down-after 1 s). Everything stops when the test ends. Without
// redis-sentinel the test is skipped, or fails with
// GATEWAY_TEST_REQUIRE_SENTINEL=1.
type SentinelSet struct {
	// Nodes are the two data nodes; Nodes[0] starts as master.
	Nodes     []*SentinelNode
	sentinels []*SentinelNode
}

// SentinelNode is one process of the set.
type SentinelNode struct {
	Addr string
	p    *process
}

// StartSentinel starts the set and waits until the replica is in sync and
// every sentinel knows the master and the replica.
func StartSentinel(tb testing.TB) *SentinelSet {
	tb.Helper()
	server := testenv.LookPath(tb, "redis-server", testenv.RequireRedis)
	sentinel := testenv.LookPath(tb, "redis-sentinel", testenv.RequireSentinel)
	set := &SentinelSet{}
	dir := tb.TempDir()
	tb.Cleanup(func() {
		for _, n := range append(append([]*SentinelNode{}, set.sentinels...), set.Nodes...) {
			n.Kill()
		}
	})
	var master string
	for i := range 2 {
		args := []string{"--save", "", "--appendonly", "no", "--protected-mode", "no",
			"--repl-timeout", "60"}
		if i == 1 {
			h, p, _ := net.SplitHostPort(master)
			args = append(args, "--replicaof", h, p)
		}
		n := startNode(tb, server, filepath.Join(dir, "node"+strconv.Itoa(i)), nil, args)
		if i == 0 {
			master = n.Addr
		}
		set.Nodes = append(set.Nodes, n)
	}
	waitFor(tb, 15*time.Second, "replica in sync", func() bool {
		info, err := set.Nodes[1].client().Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	h, p, _ := net.SplitHostPort(master)
	for i := range 3 {
		conf := strings.Join([]string{
			"sentinel monitor " + SentinelMaster + " " + h + " " + p + " 2",
			"sentinel down-after-milliseconds " + SentinelMaster + " 1000",
			"sentinel failover-timeout " + SentinelMaster + " 3000",
			"sentinel parallel-syncs " + SentinelMaster + " 1",
		}, "\n") + "\n"
		n := startNode(tb, sentinel, filepath.Join(dir, "sentinel"+strconv.Itoa(i)), []byte(conf), nil)
		set.sentinels = append(set.sentinels, n)
	}
	waitFor(tb, 15*time.Second, "sentinels see the replica and each other", func() bool {
		for _, s := range set.sentinels {
			res, err := s.client().Do(context.Background(), "SENTINEL", "MASTER", SentinelMaster).Slice()
			if err != nil {
				return false
			}
			f := map[string]string{}
			for i := 0; i+1 < len(res); i += 2 {
				f[fmt.Sprint(res[i])] = fmt.Sprint(res[i+1])
			}
			if f["num-slaves"] != "1" || f["num-other-sentinels"] != "2" {
				return false
			}
		}
		return true
	})
	return set
}

// URL is the go-redis Sentinel URL of the set, as redis.url takes it.
func (s *SentinelSet) URL() string {
	u := "redis-sentinel://" + s.sentinels[0].Addr + "/0?master_name=" + SentinelMaster
	for _, n := range s.sentinels[1:] {
		u += "&addr=" + n.Addr
	}
	return u
}

// Master returns the node the sentinels currently name as master.
func (s *SentinelSet) Master(tb testing.TB) *SentinelNode {
	tb.Helper()
	addr, err := s.sentinels[0].client().Do(context.Background(), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SentinelMaster).StringSlice()
	if err != nil || len(addr) != 2 {
		tb.Fatalf("redistest: ask sentinel for the master: %v %v", addr, err)
	}
	want := net.JoinHostPort(addr[0], addr[1])
	for _, n := range s.Nodes {
		if n.Addr == want {
			return n
		}
	}
	tb.Fatalf("redistest: sentinel names unknown master %s", want)
	return nil
}

// WaitPromoted waits until the sentinels name a master other than old and
// that node answers as a master; it returns the new master.
func (s *SentinelSet) WaitPromoted(tb testing.TB, old *SentinelNode, within time.Duration) *SentinelNode {
	tb.Helper()
	var got *SentinelNode
	waitFor(tb, within, "sentinel promotes the replica", func() bool {
		addr, err := s.sentinels[0].client().Do(context.Background(), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SentinelMaster).StringSlice()
		if err != nil || len(addr) != 2 || net.JoinHostPort(addr[0], addr[1]) == old.Addr {
			return false
		}
		for _, n := range s.Nodes {
			if n.Addr == net.JoinHostPort(addr[0], addr[1]) {
				info, err := n.client().Info(context.Background(), "replication").Result()
				if err == nil && strings.Contains(info, "role:master") {
					got = n
					return true
				}
			}
		}
		return false
	})
	return got
}

// Client returns a go-redis client for the node, closed when tb ends.
func (n *SentinelNode) Client(tb testing.TB) *redis.Client {
	c := n.client()
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

func (n *SentinelNode) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: n.Addr, DialTimeout: time.Second, ReadTimeout: time.Second,
		MaxRetries: -1, PoolSize: 1, DisableIdentity: true, Protocol: 2})
}

// Pause stops the process (SIGSTOP): it keeps its connections but answers
// nothing and replicates nothing until Resume.
func (n *SentinelNode) Pause() { _ = n.p.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused process (SIGCONT).
func (n *SentinelNode) Resume() { _ = n.p.cmd.Process.Signal(syscall.SIGCONT) }

// Kill ends the process at once (SIGKILL), as a crash would.
func (n *SentinelNode) Kill() {
	select {
	case <-n.p.done:
		return
	default:
	}
	_ = n.p.cmd.Process.Signal(syscall.SIGCONT)
	killProcess(n.p)
}

// startNode runs bin on a free port in dir; conf, when not nil, is written
// to a config file (sentinels rewrite theirs) given as the first argument.
func startNode(tb testing.TB, bin, dir string, conf []byte, args []string) *SentinelNode {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	var lastErr error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			tb.Fatal(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		full := []string{}
		if conf != nil {
			path := filepath.Join(dir, "sentinel.conf")
			c := append([]byte("port "+strconv.Itoa(port)+"\nbind 127.0.0.1\ndir "+dir+"\n"), conf...)
			if err := os.WriteFile(path, c, 0o644); err != nil {
				tb.Fatal(err)
			}
			full = append(full, path)
		} else {
			full = append(full, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no")
		}
		full = append(full, args...)
		n, err := runNode(bin, addr, full)
		if err == nil {
			return n
		}
		lastErr = err
	}
	tb.Fatalf("redistest: start %s: %v", filepath.Base(bin), lastErr)
	return nil
}

func runNode(bin, addr string, args []string) (*SentinelNode, error) {
	cmd := exec.Command(bin, args...)
	p, err := startProcess(cmd)
	if err != nil {
		return nil, err
	}
	n := &SentinelNode{Addr: addr, p: p}
	deadline := time.Now().Add(startTimeout)
	for {
		c := n.client()
		err := c.Ping(context.Background()).Err()
		c.Close()
		if err == nil {
			return n, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("exited: %v\n%s", p.err, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			killProcess(p)
			return nil, fmt.Errorf("no PING answer within %v: %v\n%s", startTimeout, err, p.out.String())
		}
	}
}

func waitFor(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: %s: not within %v", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitReplicated waits until the replica has every write this master had
// taken when it was called (see ClusterNode.WaitReplicated).
func (n *SentinelNode) WaitReplicated(tb testing.TB, within time.Duration) {
	tb.Helper()
	waitReplicated(tb, n.Addr, within)
}
