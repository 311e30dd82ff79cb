// Package browsertest runs a headless Chromium for a test, with chromedp.
//
// New starts a private browser with its own profile directory, so its own
// cookie jar. NewTab opens another tab of the same browser, which shares the
// cookies. NewIsolated starts another browser, like a second device. Each
// browser lives at most Timeout and stops when the test ends. If Chromium is
// not installed, the test is skipped, or fails when
// GATEWAY_TEST_REQUIRE_CHROMIUM=1.
//
// The contexts work with chromedp v0.23.0, whose API is generic: use
// chromedp.Do for several actions that return nothing and chromedp.Run for
// one action that returns a value, and pass typed selectors:
//
//	ctx := browsertest.New(t)
//	err := chromedp.Do(ctx,
//		chromedp.Navigate(srv.URL+"/login"),
//		chromedp.SendKeys(chromedp.ID("username"), "alice"),
//		chromedp.Click(chromedp.ID("submit")),
//	)
//	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/testenv"
)

// Timeout is the longest time that a browser of New or NewIsolated runs.
// After it, the browser stops and every action on its contexts fails with
// context.DeadlineExceeded, so a stuck test fails instead of hanging.
const Timeout = 60 * time.Second

// closeTimeout is how long the cleanup waits for the browser to close
// gracefully before it kills it.
const closeTimeout = 5 * time.Second

// chromiumNames are the names under which Chromium is installed, in the order
// of preference.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

// New starts a headless Chromium with a fresh profile and returns the
// chromedp context of its first tab. The browser is already running when New
// returns. It stops when tb ends, or after Timeout.
func New(tb testing.TB) context.Context {
	tb.Helper()
	return NewFor(tb, Timeout)
}

// NewFor is New with another bound than Timeout, for a test that walks
// many pages in one browser rather than starting several.
func NewFor(tb testing.TB, limit time.Duration) context.Context {
	tb.Helper()
	execPath := findChromium(tb)

	// TempDir first, so that its removal runs after the browser has stopped
	// (cleanups run last-in first-out).
	dataDir := tb.TempDir()
	output := &syncBuffer{}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(dataDir),
		chromedp.CombinedOutput(output),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		// Tests may only talk to loopback addresses: connect directly, never
		// through a proxy of the environment, and resolve no other host name.
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1"),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,OptimizationHints,MediaRouter,"+
			"DialMediaRouteProvider,AutofillServerCommunication,PasswordLeakDetection,HttpsUpgrades"),
		chromedp.WindowSize(1280, 900),
	)

	timeoutCtx, cancelTimeout := context.WithTimeout(context.Background(), limit)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeoutCtx, opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// The cancel funcs of chromedp must not run twice: the second call can
	// block when the browser never started.
	stop := sync.OnceFunc(func() {
		// Close the browser gracefully, so that it reaps its own child
		// processes, and kill it if that does not work in time.
		closeCtx, cancelClose := context.WithTimeout(ctx, closeTimeout)
		_ = chromedp.Cancel(closeCtx)
		cancelClose()
		cancel()      // kills the browser if it still runs
		cancelAlloc() // waits until the process has exited
		cancelTimeout()
		killLeftovers(dataDir)
		removeAllRetry(dataDir)
	})
	tb.Cleanup(stop)

	// Start the browser now. The first Run binds the browser to ctx, and a
	// tab of NewTab needs a running browser to share it.
	if err := chromedp.Do(ctx); err != nil {
		stop()
		tb.Fatalf("browsertest: start %s: %v\nbrowser output:\n%s", execPath, err, output.String())
	}
	return ctx
}

// NewTab opens a new tab in the browser of browserCtx, a context of New or
// NewIsolated, and returns its context. The tab shares the cookies and the
// storage of the browser. It closes when tb ends.
func NewTab(tb testing.TB, browserCtx context.Context) context.Context {
	tb.Helper()
	if chromedp.FromContext(browserCtx) == nil {
		tb.Fatalf("browsertest: NewTab needs a context of browsertest.New")
	}
	ctx, cancel := chromedp.NewContext(browserCtx)
	tb.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("browsertest: open a tab: %v", err)
	}
	return ctx
}

// NewIsolated starts another browser with its own profile, so its own cookie
// jar, like a second device of the same user. It is the same as New.
func NewIsolated(tb testing.TB) context.Context {
	tb.Helper()
	return New(tb)
}

// findChromium returns the path of Chromium, or skips or fails the test.
func findChromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return testenv.LookPath(tb, chromiumNames[0], testenv.RequireChromium)
}

// killLeftovers kills the processes that still use dir as their profile
// directory. Chromium passes --user-data-dir to each of its child processes,
// and these can outlive the main process for a moment and write in the
// directory while the test removes it. It works on Linux, and does nothing
// where there is no /proc.
func killLeftovers(dir string) {
	want := []byte("--user-data-dir=" + dir)
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if killProcessesWith(want) == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// killProcessesWith kills the processes that have the argument arg, and
// returns how many it found.
func killProcessesWith(arg []byte) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	self := os.Getpid()
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for a := range bytes.SplitSeq(cmdline, []byte{0}) {
			if bytes.Equal(a, arg) {
				if p, err := os.FindProcess(pid); err == nil {
					_ = p.Kill()
				}
				n++
				break
			}
		}
	}
	return n
}

// removeAllRetry removes dir, and tries again for a moment when a process
// that is about to die still writes in it. The removal of tb.TempDir then
// finds nothing left to fail on.
func removeAllRetry(dir string) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := os.RemoveAll(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) || time.Now().After(deadline) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
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
