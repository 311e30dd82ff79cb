package web

import (
	"sync"
	"time"

	"github.com/medama-io/go-useragent"
)

// parserIdle is how long the user-agent parser stays in memory after its
// last use.
const parserIdle = 10 * time.Minute

// lazyParser holds the user-agent parser only while pages need it. The
// library builds a trie of every agent it knows (about 5 MiB in some 166k
// small objects): kept for the life of the process, the garbage collector
// would walk it on every cycle, and cycles come with proxied traffic, which
// never needs it. Built on the first label and dropped after parserIdle
// without one, it costs tens of milliseconds once per burst of page views.
type lazyParser struct {
	idle  time.Duration
	mu    sync.Mutex
	p     *useragent.Parser
	last  time.Time
	timer *time.Timer
}

func newLazyParser(idle time.Duration) *lazyParser { return &lazyParser{idle: idle} }

// uaParser is shared by every page of the process; creating it does
// nothing until a label is asked for.
var uaParser = newLazyParser(parserIdle)

// Parse parses ua with the parser, building it first if needed.
func (l *lazyParser) Parse(ua string) useragent.UserAgent {
	l.mu.Lock()
	if l.p == nil {
		l.p = useragent.NewParser()
	}
	p := l.p
	l.last = time.Now()
	if l.timer == nil {
		l.timer = time.AfterFunc(l.idle, func() { l.expire(time.Now()) })
	}
	l.mu.Unlock()
	return p.Parse(ua) // the trie is read-only: no lock needed
}

// expire drops the parser if it has not been used for l.idle at now, else
// checks again when it would be.
func (l *lazyParser) expire(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if since := now.Sub(l.last); since < l.idle {
		if l.timer != nil {
			l.timer.Reset(l.idle - since)
		}
		return
	}
	l.p = nil
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// built reports whether the parser is in memory.
func (l *lazyParser) built() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.p != nil
}
