package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise it comes from
// the module's build information.
var version = ""

// errUsage marks a command line that could not be understood; its message was printed.
var errUsage = errors.New("usage")

// run is the whole program, with its surroundings passed in, so tests call it as the real
// program is called.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	err := dispatch(ctx, cmd, args, getenv, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "doctor":
		return doctor(ctx, args, getenv, stdout, stderr)
	case "seed":
		return seedCommand(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "syncwatch", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "syncwatch: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}

const usage = `syncwatch: a live dashboard of a data warehouse's CRM syncs.

Usage:
  syncwatch [serve] [flags]   serve the dashboard (the default); "syncwatch serve -h" lists its flags
  syncwatch doctor            check the warehouse's tables and indexes; print what to fix
  syncwatch seed [flags]      fill a database with realistic sync history; "syncwatch seed -h" lists its flags
  syncwatch version           print the version
  syncwatch help              print this help
`

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

// errHelp means the user asked for a command's help, which was printed: not a failure.
var errHelp = errors.New("help")

// parseFlags parses a subcommand's flags; help and errors are written to stderr.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "syncwatch %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}
