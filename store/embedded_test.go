package store

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestEmbeddedStoreNeedsPassword: the embedded store listens on loopback
// only, and another local process that connects to it, without the
// password or with a guessed one, can neither read nor write.
func TestEmbeddedStoreNeedsPassword(t *testing.T) {
	ctx := context.Background()
	s, err := New("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.rdb.Set(ctx, "probe", "mine", 0).Err(); err != nil {
		t.Fatalf("the gateway's own client: %v", err)
	}
	addr := s.embedded.Addr()
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		t.Fatalf("embedded store listens on %s; want 127.0.0.1 only", addr)
	}

	for _, password := range []string{"", "guess", strings.Repeat("A", 26)} {
		c := redis.NewClient(&redis.Options{Addr: addr, Password: password, MaxRetries: -1})
		err := c.Get(ctx, "probe").Err()
		c.Close()
		if err == nil || !(strings.Contains(err.Error(), "NOAUTH") || strings.Contains(err.Error(), "WRONGPASS")) {
			t.Errorf("client with password %q: %v; want NOAUTH or WRONGPASS", password, err)
		}
	}

	// A raw connection that skips AUTH, as any program could.
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("*3\r\n$3\r\nSET\r\n$5\r\nprobe\r\n$6\r\nstolen\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "-NOAUTH") {
		t.Errorf("SET without AUTH answered %q, %v; want -NOAUTH", line, err)
	}
	if v, _ := s.rdb.Get(ctx, "probe").Result(); v != "mine" {
		t.Errorf("value after the stranger's SET = %q; want it unchanged", v)
	}
}
