package config

// LoadStoreOnly loads the configuration like Load but checks only what is
// needed to reach the store (redis.url and password policy), so user
// management commands work with just GATEWAY_REDIS_URL set.
func LoadStoreOnly(path string, environ []string) (*Config, error) {
	return load(path, environ, func(cfg *Config) error {
		if err := cfg.validateRedis(); err != nil {
			return err
		}
		return cfg.validatePassword()
	})
}
