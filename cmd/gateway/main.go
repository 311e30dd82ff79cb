// Command gateway runs the authentication gateway and manages its users.
//
//	gateway [--config FILE] [serve]        run the gateway
//	gateway demo [--listen ADDR] [--ops-listen ADDR]   quickstart: embedded store, demo app, demo users
//	gateway [--config FILE] users add NAME --email E --role user|support|admin [--password-stdin]
//	gateway [--config FILE] users passwd NAME [--password-stdin]
//	gateway [--config FILE] users list
//	gateway [--config FILE] users groups NAME [add|remove GROUP...]
//	gateway [--config FILE] users disable|enable NAME
//	gateway [--config FILE] users unthrottle [NAME] [--ip ADDRESS]
//	gateway [--config FILE] config check
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h/--help printed the usage: not a failure
		}
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// env is what a command runs with: streams and environment, so tests can
// call run without a process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
	configPath     string
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", lookupEnv(environ, "GATEWAY_CONFIG"), "YAML configuration file (also GATEWAY_CONFIG)")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, environ: environ, configPath: *configPath}
	rest := fs.Args()
	cmd := "serve"
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		if len(rest) > 0 {
			if rest[0] == "-h" || rest[0] == "--help" || rest[0] == "-help" {
				fmt.Fprint(stdout, usage)
				return nil
			}
			return fmt.Errorf("serve takes no arguments, got %q; put --config FILE before the command (gateway --config FILE serve)", rest[0])
		}
		return e.serve(ctx)
	case "demo":
		return e.demo(ctx, rest)
	case "users":
		return e.users(ctx, rest)
	case "sessions":
		return e.sessions(ctx, rest) // sessions.go
	case "config":
		if len(rest) == 1 && rest[0] == "check" {
			return e.configCheck()
		}
		return errors.New("usage: gateway [--config FILE] config check")
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q (try: gateway help)", cmd)
}

const usage = `usage: gateway [--config FILE] COMMAND

commands:
  serve                      run the gateway (the default)
  demo [--listen ADDR] [--ops-listen ADDR]
                             quickstart on 127.0.0.1:8080 (ops 127.0.0.1:9090): embedded store,
                             demo app, demo users; ignores the config file and GATEWAY_… settings
  users add NAME --email E --role user|support|admin [--password-stdin]
  users passwd NAME [--password-stdin]
  users list
  users groups NAME [add|remove GROUP...]
                             list a user's groups, or add or remove some
  users disable NAME          refuse sign-in and sign the account out of every device
  users enable NAME
  users unthrottle [NAME] [--ip ADDRESS]
                             clear brute-force delays of an account and/or a client address
  sessions end-all           end every session of every user (after restoring a Redis backup)
  config check               validate and print the effective configuration, secrets masked

Every setting can also be given as an environment variable GATEWAY_…, e.g.
GATEWAY_UPSTREAM, GATEWAY_SECRET, GATEWAY_REDIS_URL. See README.md.
`

func lookupEnv(environ []string, name string) string {
	for _, kv := range environ {
		if len(kv) > len(name) && kv[:len(name)] == name && kv[len(name)] == '=' {
			return kv[len(name)+1:]
		}
	}
	return ""
}
