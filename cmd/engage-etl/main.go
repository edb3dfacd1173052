// Command engage-etl loads TeamViewer Engage reports into a PostgreSQL star
// schema. Run `engage-etl --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/engage-etl/engage-etl/internal/config"
	"github.com/engage-etl/engage-etl/internal/redact"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // some stream or operation failed
	exitUsage   = 2 // bad usage or configuration
	usageHeader = `engage-etl loads TeamViewer Engage reports into a PostgreSQL star schema.

Usage: engage-etl <command> [flags]

Commands:
  run        the daemon: every stream on cron schedules, /healthz /readyz /metrics, webhooks
  sync       load every stream from its cursor (re-reading its lookback) through today
  backfill   load a range of days: backfill --from DATE --to DATE (resumable)
  estimate   what a backfill (--from, --to) or the next sync would ask the API, and how long at its pace
  status     where every tenant and stream stands: cursor, lag, last run
  verify     compare the warehouse with the API's bucketed reports: verify --from DATE --to DATE
  rebuild    load the facts again from the kept raw answers, without the API
  failures   the answers that failed their window: what the API sent, and why it failed
  check      ask each endpoint once and say whether the answers fit the configuration
  migrate    apply or revert warehouse migrations: migrate up | down [N] | version | force N
  streams    list the declared streams
  simulate   serve a simulated Engage API
  demo       simulator + local PostgreSQL: load 14 days and print a summary
  version    the module version and the commit it was built from

Configuration: --config FILE (YAML, see config.example.yaml) and the environment:
  DATABASE_URL, and for one tenant without a file ENGAGE_API_TOKEN, ENGAGE_BASE_URL,
  ENGAGE_TIMEZONE (IANA, default UTC), ENGAGE_START_DATE (YYYY-MM-DD), ENGAGE_TENANT_ID,
  ENGAGE_REQUESTS_PER_SECOND, ENGAGE_WEBHOOK_SECRET.

Run 'engage-etl <command> --help' for a command's flags.
Exit codes: 0 ok, 1 some stream failed, 2 bad usage or configuration.
`
)

func main() { os.Exit(runMain(os.Args[1:])) }

// runMain runs a command line as the process: SIGINT and SIGTERM cancel it.
// A panic of the command's goroutine is printed redacted (the runtime would
// print its value as is) with the stack, and exits 2 as the runtime does.
func runMain(args []string) (code int) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(os.Stderr, "panic: %s\n\n%s", redact.String(fmt.Sprint(v)), debug.Stack())
			code = 2
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr, os.LookupEnv)
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// env is what a command needs from the process: streams and the environment.
type env struct {
	stdout, stderr io.Writer
	lookup         config.LookupEnv
}

var commands = map[string]command{
	"run":      {"daemon", runDaemon},
	"sync":     {"incremental sync", runSync},
	"backfill": {"backfill", runBackfill},
	"estimate": {"estimate a backfill or sync", runEstimate},
	"status":   {"status", runStatus},
	"verify":   {"verify", runVerify},
	"rebuild":  {"rebuild from raw", runRebuild},
	"failures": {"failed answers", runFailures},
	"check":    {"check the API against the config", runCheck},
	"metabase": {"keys and descriptions for Metabase", runMetabase},
	"migrate":  {"migrations", runMigrate},
	"streams":  {"list streams", runStreams},
	"simulate": {"simulated API", runSimulate},
	"demo":     {"demo", runDemo},
	"version":  {"version", runVersion},
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup config.LookupEnv) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usageHeader)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "engage-etl: unknown command %q; run 'engage-etl --help'\n", args[0])
		return exitUsage
	}
	err := cmd.run(ctx, &env{stdout: stdout, stderr: stderr, lookup: lookup}, args[1:])
	return exitCode(stderr, err)
}

// usageError is bad usage or configuration: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// errReported means the command already printed its failures.
var errReported = errors.New("failures reported")

// errHelp means --help was printed.
var errHelp = errors.New("help")

func exitCode(stderr io.Writer, err error) int {
	var ue usageError
	var ce *config.Error
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errReported):
		return exitFailed
	case errors.As(err, &ue), errors.As(err, &ce):
		fmt.Fprintf(stderr, "engage-etl: %s\n", redact.String(err.Error()))
		return exitUsage
	default:
		fmt.Fprintf(stderr, "engage-etl: %s\n", redact.String(err.Error()))
		return exitFailed
	}
}
