package main

import (
	"context"
	"github.com/authgate/gateway/internal/server"
	"time"

	"github.com/authgate/gateway/config"
)

func (e *env) loadConfig() (*config.Config, error) {
	return config.Load(e.configPath, e.environ)
}

// serve runs the gateway until SIGINT/SIGTERM, then drains in-flight
// requests before exiting.
func (e *env) serve(ctx context.Context) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	log := server.NewLogger(cfg, e.stderr)
	routeRedisLogs(log)
	a, err := server.New(ctx, cfg, log, server.Options{AccessLog: e.stderr})
	if err != nil {
		return err
	}
	if err := a.Listen(); err != nil {
		a.Close()
		return err
	}
	<-ctx.Done()
	log.Info("shutting down: draining in-flight requests")
	a.Shutdown(30 * time.Second)
	return nil
}

func (e *env) configCheck() error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	_, err = e.stdout.Write([]byte("# configuration is valid; effective values (secrets masked):\n" + cfg.Masked() + cfg.RuleTable()))
	return err
}
