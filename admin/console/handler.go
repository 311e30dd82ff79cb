package console

import "github.com/authgate/gateway/admin/web"

// Handler serves the console routes; the shared collaborators and answers
// come from the embedded web.Base.
type Handler struct {
	*web.Base
}

// New builds the console handler on the shared base.
func New(b *web.Base) *Handler { return &Handler{Base: b} }
