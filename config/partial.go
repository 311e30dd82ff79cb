package config

import (
	"fmt"
	"os"
)

// LoadStoreOnly loads the configuration like Load but checks only what is
// needed to reach the store (redis.url and password policy), so user
// management commands work with just GATEWAY_REDIS_URL set.
func LoadStoreOnly(path string, environ []string) (*Config, error) {
	cfg := Defaults()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read configuration: %w", err)
		}
		if err := decodeYAML(&cfg, data, path); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return nil, err
	}
	if err := cfg.validateRedis(); err != nil {
		return nil, err
	}
	if err := cfg.validatePassword(); err != nil {
		return nil, err
	}
	return &cfg, nil
}
