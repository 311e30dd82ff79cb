// Package httpsafe holds the small, security-critical decisions the gateway
// makes about untrusted HTTP input: where a post-login redirect may go
// (CleanRedirect), which client-supplied headers must never reach the
// upstream (StripIdentityHeaders), which client address to believe
// (ClientIP, ForwardedFor), and how a request path is normalised and
// classified before it is matched against public paths (CleanPath,
// IsPublicPath, SuspiciousPath).
//
// Every function here treats its input as attacker-controlled and errs on
// the side of refusing: a false "no" costs a user one extra sign-in or a
// redirect to "/", a false "yes" is an open redirect, a spoofed identity or
// an authentication bypass. The package uses the standard library only and
// keeps no state, so it is safe for concurrent use.
package httpsafe
