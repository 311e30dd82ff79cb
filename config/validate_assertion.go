package config

import "time"

// Bounds on the assertion settings.
const (
	// MaxAssertionLifetime is the longest an assertion may live.
	MaxAssertionLifetime = 5 * time.Minute
	// MinAssertionLifetime leaves room to sign again before expiry.
	MinAssertionLifetime = 30 * time.Second
	// MinKeyRotation keeps a key the newest longer than it is published
	// ahead and kept after.
	MinKeyRotation = 10 * time.Minute
)

func (c *Config) validateAssertion() error {
	if d := c.Assertion.Lifetime.Duration; d < MinAssertionLifetime || d > MaxAssertionLifetime {
		return keyErr("assertion.lifetime", "is %s; must be between %s and %s", c.Assertion.Lifetime, Duration{MinAssertionLifetime}, Duration{MaxAssertionLifetime})
	}
	if d := c.Assertion.KeyRotation.Duration; d < MinKeyRotation {
		return keyErr("assertion.key_rotation", "is %s; must be at least %s (e.g. 24h)", c.Assertion.KeyRotation, Duration{MinKeyRotation})
	}
	return nil
}
