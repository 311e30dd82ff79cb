// Package templates holds the gateway's templ components, their view models
// and the embedded stylesheet. It imports no handler and no store.
package templates

import (
	"embed"
	"net/http"
	"strconv"
)

// Static holds the stylesheet and other assets served under {prefix}/static/.
//
//go:embed static
var Static embed.FS

func statusText(code int) string {
	return strconv.Itoa(code) + " " + http.StatusText(code)
}
