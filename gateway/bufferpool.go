package gateway

import "sync"

// copyBufferSize is what httputil.ReverseProxy allocates per response when
// it has no BufferPool.
const copyBufferSize = 32 << 10

// bufferPool lends the reverse proxy its response copy buffers. Without
// one, every proxied response allocates 32 KiB of garbage, most of the
// bytes a request allocates and most of what drives the garbage collector.
// It pools array pointers, so that Put stores no new slice header.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { return new([copyBufferSize]byte) }}}
}

// Get implements httputil.BufferPool.
func (b *bufferPool) Get() []byte { return b.p.Get().(*[copyBufferSize]byte)[:] }

// Put implements httputil.BufferPool.
func (b *bufferPool) Put(buf []byte) {
	if cap(buf) >= copyBufferSize {
		b.p.Put((*[copyBufferSize]byte)(buf[:copyBufferSize]))
	}
}
