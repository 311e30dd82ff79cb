// Package axetest runs axe-core, the accessibility checker, in the page of
// a chromedp tab, and reports the serious and critical violations.
//
// axe-core is an npm package; .ci/run installs a pinned version with
//
//	npm install --prefix "${TMPDIR:-/tmp}/gateway-ci-axe" axe-core@4.10.3
//
// The script is found at $GATEWAY_TEST_AXE, or else at that place under the
// temporary directory. When it is missing the test is skipped, or fails
// when GATEWAY_TEST_REQUIRE_AXE=1.
package axetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/testenv"
)

// EnvPath names the file axe.min.js when set.
const EnvPath = "GATEWAY_TEST_AXE"

// Version is the axe-core release .ci/run installs.
const Version = "4.10.3"

// DefaultPath is where .ci/run installs axe.min.js.
func DefaultPath() string {
	return filepath.Join(os.TempDir(), "gateway-ci-axe", "node_modules", "axe-core", "axe.min.js")
}

// Load returns the axe-core script, or skips (or fails) tb without it.
func Load(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv(EnvPath)
	if path == "" {
		path = DefaultPath()
	}
	src, err := os.ReadFile(path)
	if err != nil {
		testenv.Require(tb, "axe-core ("+path+"; npm install --prefix "+filepath.Dir(filepath.Dir(filepath.Dir(DefaultPath())))+" axe-core@"+Version+")", testenv.RequireAxe)
	}
	return string(src)
}

// Violation is one rule broken on the page, with a few of the elements.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s): %s — %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "; "))
}

// run checks the whole document with every rule that is not experimental
// and keeps what fails with a serious or critical impact.
const run = `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\s+/g, ' '))})))`

// Check runs axe-core (src, from Load) in the page that ctx shows, loading
// it first when the page does not have it yet, and returns the serious and
// critical violations.
func Check(ctx context.Context, src string) ([]Violation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== 'undefined'`))
	if err != nil {
		return nil, err
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			return nil, fmt.Errorf("load axe-core: %w", err)
		}
	}
	return chromedp.Run(ctx, chromedp.Evaluate[[]Violation](run, chromedp.EvalAwaitPromise))
}
