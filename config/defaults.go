package config

import "time"

// Default values, also used in messages and documentation.
const (
	DefaultListen     = ":8080"
	DefaultOpsListen  = "127.0.0.1:9090"
	DefaultPathPrefix = "/.gateway"
	DefaultCookieName = "gateway_session"
	// DefaultSecureCookieName is the default when cookie.secure is on: the
	// __Host- prefix makes browsers refuse a same-name cookie planted by a
	// sibling subdomain or set with a Domain or a narrower Path.
	DefaultSecureCookieName = "__Host-" + DefaultCookieName
	// DefaultPortalCookieName and DefaultSecurePortalCookieName name the
	// portal's cookie the same way.
	DefaultPortalCookieName       = "gateway_portal"
	DefaultSecurePortalCookieName = "__Host-" + DefaultPortalCookieName
	// DefaultRedisTimeout is redis.timeout: short enough that a hung Redis
	// answers a protected request with 503 well within a second.
	DefaultRedisTimeout = 500 * time.Millisecond
	// DefaultActivityLimit is redis.activity_limit: events kept per person.
	DefaultActivityLimit = 500
	// DefaultUITitle is ui.title: the name in the header of every page.
	DefaultUITitle = "Sign-in gateway"
)

// Values of escaped_slashes.
const (
	EscapedSlashesKeep   = "keep"
	EscapedSlashesReject = "reject"
	EscapedSlashesDecode = "decode"
)

// Defaults returns the configuration used before the file and environment
// are applied. It lacks only a secret and an upstream to be valid.
func Defaults() Config {
	return Config{
		Listen:         DefaultListen,
		OpsListen:      DefaultOpsListen,
		PathPrefix:     DefaultPathPrefix,
		EscapedSlashes: EscapedSlashesKeep,
		Cookie: Cookie{
			Name:   "", // chosen by Validate from cookie.secure
			Secure: true,
		},
		Session: Session{
			Lifetime:         Duration{168 * time.Hour},
			IdleTimeout:      Duration{12 * time.Hour},
			ReauthWindow:     Duration{10 * time.Minute},
			LastSeenInterval: Duration{time.Minute},
		},
		Redis: Redis{WaitReplicas: 1, WaitTimeout: Duration{500 * time.Millisecond}, Timeout: Duration{DefaultRedisTimeout}, ActivityLimit: DefaultActivityLimit},
		Headers: Headers{
			User:      "X-Forwarded-User",
			Email:     "X-Forwarded-Email",
			Groups:    "X-Forwarded-Groups",
			Assertion: "X-Gateway-Assertion",
		},
		Assertion: Assertion{Lifetime: Duration{5 * time.Minute}, KeyRotation: Duration{24 * time.Hour}},
		Password:  Password{MinLength: 12},
		MFA: MFA{
			Require:        "support,admin",
			RememberDevice: Duration{0},
			Passkeys:       true,
		},
		Log:    Log{Format: "json", Level: "info"},
		UI:     UI{Title: DefaultUITitle},
		SMTP:   SMTP{Timeout: Duration{DefaultSMTPTimeout}},
		Notify: Notify{RetryBase: Duration{DefaultRetryBase}, RetryMax: Duration{DefaultRetryMax}, MaxAttempts: DefaultMaxAttempts},
		RateLimit: RateLimit{
			PerSession: Rate{Events: 50, Per: time.Second}, SessionBurst: 100,
			PerIP: Rate{Events: 20, Per: time.Second}, IPBurst: 40,
			MaxTracked: 200_000,
		},
		Throttle: Throttle{
			PasswordAccount: ThrottlePolicy{Free: 5, Base: Duration{time.Second}, Max: Duration{15 * time.Minute}, Forget: Duration{24 * time.Hour}},
			PasswordIP:      ThrottlePolicy{Free: 20, Base: Duration{time.Second}, Max: Duration{15 * time.Minute}, Forget: Duration{time.Hour}},
			MFA:             ThrottlePolicy{Free: 5, Base: Duration{time.Second}, Max: Duration{15 * time.Minute}, Forget: Duration{24 * time.Hour}},
		},
	}
}
