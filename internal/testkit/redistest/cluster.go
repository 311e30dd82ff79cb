package redistest

import (
	"errors"
	"fmt"
	"math/rand/v2"
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

const (
	// clusterNodeTimeout is the cluster-node-timeout of test clusters: a
	// master that does not answer for this long is failed over. Short, so
	// that failover tests take seconds (production uses about 15 s).
	clusterNodeTimeout = 1000 * time.Millisecond
	// clusterStartTimeout bounds the start of all nodes plus cluster create.
	clusterStartTimeout = 30 * time.Second
)

// Cluster is a real Redis Cluster on loopback for one test: three masters
// with one replica each, made by `redis-cli --cluster create`. Persistence is
// off. Every node is stopped when the test ends.
type Cluster struct {
	// Nodes are the six servers, in the order given to cluster create (the
	// first three start as masters).
	Nodes []*ClusterNode
}

// ClusterNode is one redis-server of a Cluster.
type ClusterNode struct {
	// Addr is "127.0.0.1:N"; the cluster bus listens on N+10000.
	Addr string
	// ID is the node's cluster id.
	ID string

	dir  string
	proc *process
}

// StartCluster starts six redis-server processes with cluster support on
// free loopback ports (below 55536, so that each bus port, port+10000, is a
// valid port too), joins them with `redis-cli --cluster create
// --cluster-replicas 1` and waits until every node reports cluster_state:ok
// and every replica is in sync with its master. It skips (or fails, with
// GATEWAY_TEST_REQUIRE_REDIS=1) when redis-server or redis-cli is missing.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin := testenv.LookPath(tb, "redis-server", testenv.RequireRedis)
	cli := testenv.LookPath(tb, "redis-cli", testenv.RequireRedis)
	deadline := time.Now().Add(clusterStartTimeout)
	c := &Cluster{}
	base := tb.TempDir()
	tb.Cleanup(func() { c.stop() })
	for i := range 6 {
		n := &ClusterNode{dir: filepath.Join(base, strconv.Itoa(i))}
		if err := os.Mkdir(n.dir, 0o700); err != nil {
			tb.Fatal(err)
		}
		var err error
		for range startAttempts {
			if err = n.start(bin); err == nil || !errors.Is(err, errAddrInUse) {
				break
			}
		}
		if err != nil {
			tb.Fatalf("redistest: start cluster node: %v", err)
		}
		c.Nodes = append(c.Nodes, n)
	}
	args := []string{"--cluster", "create"}
	for _, n := range c.Nodes {
		args = append(args, n.Addr)
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range c.Nodes {
		id, err := doAddr(n.Addr, time.Second, "CLUSTER", "MYID")
		if err != nil {
			tb.Fatalf("redistest: CLUSTER MYID on %s: %v", n.Addr, err)
		}
		n.ID = id
	}
	if err := c.waitHealthy(deadline); err != nil {
		tb.Fatalf("redistest: cluster did not become healthy: %v", err)
	}
	return c
}

// URL returns a redis-cluster:// URL naming every node.
func (c *Cluster) URL() string {
	u := "redis-cluster://" + c.Nodes[0].Addr
	for i, n := range c.Nodes[1:] {
		if i == 0 {
			u += "?"
		} else {
			u += "&"
		}
		u += "addr=" + n.Addr
	}
	return u
}

// Client returns a cluster client for the test's own reads and writes. It is
// closed when tb ends.
func (c *Cluster) Client(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	tb.Cleanup(func() { _ = cc.Close() })
	return cc
}

// Slot returns the hash slot of key, as the cluster computes it.
func (c *Cluster) Slot(tb testing.TB, key string) int {
	tb.Helper()
	for _, n := range c.live() {
		if r, err := doAddr(n.Addr, time.Second, "CLUSTER", "KEYSLOT", key); err == nil {
			slot, _ := strconv.Atoi(r)
			return slot
		}
	}
	tb.Fatal("redistest: no cluster node answers CLUSTER KEYSLOT")
	return 0
}

// MasterOf returns the node that serves slot now, as seen by any node that
// answers, and the replicas of that master.
func (c *Cluster) MasterOf(tb testing.TB, slot int) (master *ClusterNode, replicas []*ClusterNode) {
	tb.Helper()
	for _, n := range c.live() {
		view, err := n.view(time.Second)
		if err != nil {
			continue
		}
		for _, e := range view {
			if e.master() && e.serves(slot) {
				master = c.byID(e.id)
			}
		}
		if master == nil {
			continue
		}
		for _, e := range view {
			if e.masterID == master.ID {
				replicas = append(replicas, c.byID(e.id))
			}
		}
		return master, replicas
	}
	tb.Fatalf("redistest: no live node knows the master of slot %d", slot)
	return nil, nil
}

// WaitPromoted polls CLUSTER NODES on node until node itself is a master
// (a replica promoted by the failover of its master) and returns when it
// first saw that. It fails the test after within.
func (c *Cluster) WaitPromoted(tb testing.TB, node *ClusterNode, within time.Duration) time.Time {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		if view, err := node.view(200 * time.Millisecond); err == nil {
			for _, e := range view {
				if e.myself() && e.master() {
					return time.Now()
				}
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: %s was not promoted within %v", node.Addr, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitHealthy waits until every running, unpaused node reports
// cluster_state:ok and agrees with the others on the masters.
func (c *Cluster) WaitHealthy(tb testing.TB, within time.Duration) {
	tb.Helper()
	if err := c.waitHealthy(time.Now().Add(within)); err != nil {
		tb.Fatalf("redistest: cluster not healthy within %v: %v", within, err)
	}
}

func (c *Cluster) waitHealthy(deadline time.Time) error {
	for {
		err := c.healthy()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// healthy reports what is still wrong: a node not in state ok, a replica
// whose link to its master is down, or a node that does not know yet which
// master every replica follows (gossip spreads that after cluster create
// and after a failover).
func (c *Cluster) healthy() error {
	replicas := 0
	for _, n := range c.live() {
		info, err := doAddr(n.Addr, time.Second, "CLUSTER", "INFO")
		if err != nil {
			return fmt.Errorf("%s: CLUSTER INFO: %v", n.Addr, err)
		}
		if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
			return fmt.Errorf("%s: not ok yet:\n%s", n.Addr, info)
		}
		repl, err := doAddr(n.Addr, time.Second, "INFO", "replication")
		if err != nil {
			return fmt.Errorf("%s: INFO replication: %v", n.Addr, err)
		}
		if strings.Contains(repl, "role:slave") {
			if !strings.Contains(repl, "master_link_status:up") {
				return fmt.Errorf("%s: replica not in sync yet", n.Addr)
			}
			replicas++
		}
	}
	for _, n := range c.live() {
		view, err := n.view(time.Second)
		if err != nil {
			return fmt.Errorf("%s: CLUSTER NODES: %v", n.Addr, err)
		}
		known := 0
		for _, e := range view {
			if e.has("slave") && !e.has("fail") && e.masterID != "-" {
				known++
			}
		}
		if known != replicas {
			return fmt.Errorf("%s: knows %d replicas, %d run", n.Addr, known, replicas)
		}
	}
	return nil
}

// live lists the nodes whose process runs and is not paused.
func (c *Cluster) live() []*ClusterNode {
	var out []*ClusterNode
	for _, n := range c.Nodes {
		if n.proc != nil && !n.proc.paused {
			out = append(out, n)
		}
	}
	return out
}

func (c *Cluster) byID(id string) *ClusterNode {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// Kill ends the node with SIGKILL, as a crashed machine, and waits until the
// process is gone.
func (n *ClusterNode) Kill(tb testing.TB) {
	tb.Helper()
	if n.proc == nil {
		return
	}
	killProcess(n.proc)
	n.proc = nil
}

// Pause stops the node with SIGSTOP, as a hung server: connections are
// still accepted by the kernel, nothing is answered. Resume continues it;
// the test's cleanup resumes it anyway.
func (n *ClusterNode) Pause(tb testing.TB) {
	tb.Helper()
	if n.proc == nil {
		tb.Fatalf("redistest: pause %s: not running", n.Addr)
	}
	if err := n.proc.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		tb.Fatalf("redistest: pause %s: %v", n.Addr, err)
	}
	n.proc.paused = true
}

// Resume continues a node stopped by Pause.
func (n *ClusterNode) Resume(tb testing.TB) {
	tb.Helper()
	if n.proc == nil || !n.proc.paused {
		return
	}
	if err := n.proc.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		tb.Fatalf("redistest: resume %s: %v", n.Addr, err)
	}
	n.proc.paused = false
}

// stop kills every node: the data of a test cluster is not worth a clean
// shutdown. A paused process is continued first so that it can die at once.
func (c *Cluster) stop() {
	for _, n := range c.Nodes {
		if n.proc == nil {
			continue
		}
		_ = n.proc.cmd.Process.Signal(syscall.SIGCONT)
		killProcess(n.proc)
		n.proc = nil
	}
}

// start runs the node's redis-server on a new pair of free ports and waits
// until it answers PING.
func (n *ClusterNode) start(bin string) error {
	port, err := freeClusterPort()
	if err != nil {
		return err
	}
	n.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin,
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", strconv.Itoa(int(clusterNodeTimeout/time.Millisecond)),
		"--save", "",
		"--appendonly", "no",
		// A replica's first sync starts at once, not after the 5 s that
		// Redis waits by default for more replicas to share the transfer.
		"--repl-diskless-sync-delay", "0",
		"--dir", n.dir,
		"--daemonize", "no",
		"--protected-mode", "yes",
	)
	cmd.Dir = n.dir
	p, err := startProcess(cmd)
	if err != nil {
		return err
	}
	s := &Server{Addr: n.Addr}
	if err := s.waitReady(p); err != nil {
		killProcess(p)
		if strings.Contains(p.out.String(), "Address already in use") {
			err = fmt.Errorf("%w: %v", errAddrInUse, err)
		}
		return fmt.Errorf("%v\nredis-server output:\n%s", err, p.out.String())
	}
	n.proc = p
	return nil
}

// freeClusterPort returns a port of 127.0.0.1 below 55536 that, with the bus
// port 10000 above it, was free a moment ago. The kernel's ephemeral range
// reaches above 55535, so ports are drawn at random instead.
func freeClusterPort() (int, error) {
	for range 100 {
		port := 20000 + rand.IntN(55536-20000)
		if portFree(port) && portFree(port+10000) {
			return port, nil
		}
	}
	return 0, errors.New("no free pair of ports (N, N+10000) found")
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// nodeEntry is one line of CLUSTER NODES.
type nodeEntry struct {
	id       string
	flags    []string
	masterID string // "-" for a master
	slots    [][2]int
}

func (e nodeEntry) has(flag string) bool {
	for _, f := range e.flags {
		if f == flag {
			return true
		}
	}
	return false
}

func (e nodeEntry) myself() bool { return e.has("myself") }

// master reports a master that is not flagged as failed.
func (e nodeEntry) master() bool { return e.has("master") && !e.has("fail") }

func (e nodeEntry) serves(slot int) bool {
	for _, r := range e.slots {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

// view is the node's CLUSTER NODES, parsed.
func (n *ClusterNode) view(timeout time.Duration) ([]nodeEntry, error) {
	out, err := doAddr(n.Addr, timeout, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	return parseClusterNodes(out), nil
}

// parseClusterNodes parses lines of the form
// "<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot>…",
// where a slot is "N" or "N-M" (importing/migrating entries are skipped).
func parseClusterNodes(s string) []nodeEntry {
	var out []nodeEntry
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		e := nodeEntry{id: f[0], flags: strings.Split(f[2], ","), masterID: f[3]}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue
			}
			lo, hi, isRange := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 == nil && err2 == nil {
				e.slots = append(e.slots, [2]int{a, b})
			}
		}
		out = append(out, e)
	}
	return out
}

// WaitReplicated waits until a replica of this master has acknowledged every
// write the master had taken when it was called, so that a test that kills
// the master measures a failover, not the loss of writes made moments before
// (asynchronous replication loses those; tests of lost writes arrange that on
// purpose).
func (n *ClusterNode) WaitReplicated(tb testing.TB, within time.Duration) {
	tb.Helper()
	waitReplicated(tb, n.Addr, within)
}

// waitReplicated waits until a replica of the master at addr has
// acknowledged the master's replication offset as it stood on the call.
func waitReplicated(tb testing.TB, addr string, within time.Duration) {
	tb.Helper()
	offset := func(info, field string) int64 {
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, field); ok {
				i, _ := strconv.ParseInt(v, 10, 64)
				return i
			}
		}
		return -1
	}
	info, err := doAddr(addr, time.Second, "INFO", "replication")
	if err != nil {
		tb.Fatalf("redistest: INFO replication on %s: %v", addr, err)
	}
	want := offset(info, "master_repl_offset:")
	deadline := time.Now().Add(within)
	for {
		info, err = doAddr(addr, time.Second, "INFO", "replication")
		if err == nil {
			for _, line := range strings.Split(info, "\r\n") {
				// slave0:ip=…,port=…,state=online,offset=N,lag=…
				if !strings.HasPrefix(line, "slave") || !strings.Contains(line, "state=online") {
					continue
				}
				for _, kv := range strings.Split(line, ",") {
					if v, ok := strings.CutPrefix(kv, "offset="); ok {
						if got, _ := strconv.ParseInt(v, 10, 64); got >= want {
							return
						}
					}
				}
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: no replica of %s reached offset %d within %s (last: %v)", addr, want, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
