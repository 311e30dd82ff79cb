package redistest

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestSetGet(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.Addr, "127.0.0.1:") {
		t.Fatalf("Addr = %q, want 127.0.0.1:N", s.Addr)
	}
	if want := "redis://" + s.Addr + "/0"; s.URL() != want {
		t.Fatalf("URL() = %q, want %q", s.URL(), want)
	}
	opt, err := redis.ParseURL(s.URL())
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", s.URL(), err)
	}
	if opt.Addr != s.Addr || opt.DB != 0 {
		t.Fatalf("ParseURL(%q) = addr %q db %d", s.URL(), opt.Addr, opt.DB)
	}

	ctx := context.Background()
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	got, err := c.Get(ctx, "k").Result()
	if err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want \"v\"", got, err)
	}

	s.FlushAll(t)
	if _, err := c.Get(ctx, "k").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET after FlushAll: err = %v, want redis.Nil", err)
	}
}

func TestRestartLosesData(t *testing.T) {
	s := Start(t)
	addr := s.Addr
	ctx := context.Background()
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}

	s.Stop(t)
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("a stopped server accepts connections")
	}

	s.Restart(t)
	if s.Addr != addr {
		t.Fatalf("Addr after Restart = %q, want %q", s.Addr, addr)
	}
	// The old client reconnects to the same address.
	if _, err := c.Get(ctx, "k").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET after Restart: err = %v, want redis.Nil (data lost)", err)
	}
	if err := c.Set(ctx, "k2", "v2", 0).Err(); err != nil {
		t.Fatalf("SET after Restart: %v", err)
	}

	// Restart of a running server works too.
	s.Restart(t)
	if n, err := s.Client(t).Exists(ctx, "k2").Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS k2 after second Restart = %d, %v; want 0", n, err)
	}
}

func TestCommandCount(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	c := s.Client(t)
	if err := c.Ping(ctx).Err(); err != nil { // open the connection
		t.Fatalf("PING: %v", err)
	}

	gets0 := s.CommandCount(t, "get")
	sets0 := s.CommandCount(t, "SET")
	total0 := s.TotalCommands(t)

	for range 3 {
		c.Get(ctx, "missing")
	}
	c.Set(ctx, "a", "1", 0)
	c.Set(ctx, "b", "2", 0)

	if got := s.CommandCount(t, "get") - gets0; got != 3 {
		t.Errorf("get calls = %d, want 3", got)
	}
	if got := s.CommandCount(t, "set") - sets0; got != 2 {
		t.Errorf("set calls = %d, want 2", got)
	}
	if got := s.CommandCount(t, "hgetall"); got != 0 {
		t.Errorf("hgetall calls = %d, want 0", got)
	}
	// Only the 5 commands above ran since; the INFO commands of the helper
	// do not count.
	if got := s.TotalCommands(t) - total0; got != 5 {
		t.Errorf("TotalCommands delta = %d, want 5", got)
	}
	if got := s.TotalCommands(t) - total0; got != 5 {
		t.Errorf("TotalCommands delta on a second call = %d, want 5", got)
	}
	// The client handshake ran at least HELLO or CLIENT SETINFO; a
	// container name counts its subcommands.
	if got := s.CommandCount(t, "client"); got < s.CommandCount(t, "client|setinfo") {
		t.Errorf("client = %d < client|setinfo", got)
	}
}

func TestParseCommandStats(t *testing.T) {
	info := "# Commandstats\r\n" +
		"cmdstat_get:calls=3,usec=10,usec_per_call=3.33,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_client|setinfo:calls=2,usec=4,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_info:calls=7,usec=70,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n"
	stats, err := parseCommandStats(info)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"get": 3, "client|setinfo": 2, "info": 7}
	if len(stats) != len(want) {
		t.Fatalf("stats = %v, want %v", stats, want)
	}
	for k, v := range want {
		if stats[k] != v {
			t.Errorf("stats[%q] = %d, want %d", k, stats[k], v)
		}
	}
}
