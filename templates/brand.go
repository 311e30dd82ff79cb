package templates

import "context"

// Brand is the operator's branding (config ui.*), shown in the frame of
// every page. The gateway puts it in the request's context (WithBrand), so
// no page's view model has to carry it.
type Brand struct {
	// Title names the service in the header and the browser tab.
	Title string
	// LogoURL is an image shown before the title ("" for none).
	LogoURL string
	// AppURL is the "Back to the app" link ("" for none).
	AppURL string
	// AccentCSS is the stylesheet that sets the accent colour ("" for the
	// default colours).
	AccentCSS string
}

// DefaultTitle names the service when no brand is configured.
const DefaultTitle = "Sign-in gateway"

type brandKey struct{}

// WithBrand returns ctx carrying b for the layout.
func WithBrand(ctx context.Context, b Brand) context.Context {
	return context.WithValue(ctx, brandKey{}, b)
}

// HasBrand reports whether ctx already carries a brand.
func HasBrand(ctx context.Context) bool {
	_, ok := ctx.Value(brandKey{}).(Brand)
	return ok
}

// brandFrom is the brand in ctx, or the default one.
func brandFrom(ctx context.Context) Brand {
	b, _ := ctx.Value(brandKey{}).(Brand)
	if b.Title == "" {
		b.Title = DefaultTitle
	}
	return b
}

// pageTitle is what the browser tab shows: the page, then the service.
func pageTitle(page, service string) string {
	if page == "" || page == service {
		return service
	}
	return page + " — " + service
}
