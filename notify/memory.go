package notify

import (
	"context"
	"slices"
	"sync"
	"time"
)

// MemoryBox is the demo's mail server: it keeps the newest mails in memory
// so `gateway demo` shows them on a page of the portal without any set-up.
type MemoryBox struct {
	mu    sync.Mutex
	mails []Received
	limit int
	// OnReceive, when set, is told of each mail (the demo prints a line).
	OnReceive func(Received)
}

// Received is a mail the MemoryBox took.
type Received struct {
	Outgoing
	At time.Time
}

// NewMemoryBox keeps up to limit mails, dropping the oldest.
func NewMemoryBox(limit int) *MemoryBox { return &MemoryBox{limit: limit} }

// Send implements Sender.
func (b *MemoryBox) Send(_ context.Context, m *Outgoing) error {
	r := Received{Outgoing: *m, At: time.Now()}
	b.mu.Lock()
	b.mails = append(b.mails, r)
	if len(b.mails) > b.limit {
		b.mails = b.mails[len(b.mails)-b.limit:]
	}
	hook := b.OnReceive
	b.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	return nil
}

// Mails returns the mails held, newest first.
func (b *MemoryBox) Mails() []Received {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.mails)
	slices.Reverse(out)
	return out
}
