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
	switch {
	case len(args) > 0 && (args[0] == "--version" || args[0] == "-version"):
		cmd, args = "version", args[1:]
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
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
	case "alerts":
		return alertsCommand(ctx, args, getenv, stdout, stderr)
	case "seed":
		return seedCommand(ctx, args, getenv, stdout, stderr)
	case "version":
		if err := parseFlags(flag.NewFlagSet("version", flag.ContinueOnError), args, stderr); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "syncwatch", buildDescription())
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
  syncwatch alerts test       send a test notification to every configured alert channel
  syncwatch seed [flags]      fill a database with realistic sync history; "syncwatch seed -h" lists its flags
  syncwatch version           print the version and the revision it was built from (also --version)
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

// buildDescription says what was built: the version, and the VCS revision, its time and
// whether the tree had changes, as the Go toolchain recorded them; and the Go version.
func buildDescription() string {
	desc := buildVersion()
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return desc
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		desc += ", revision " + rev
		if t := settings["vcs.time"]; t != "" {
			desc += " of " + t
		}
		if settings["vcs.modified"] == "true" {
			desc += " with uncommitted changes"
		}
	}
	return desc + ", " + info.GoVersion
}

// errHelp means the user asked for a command's help, which was printed: not a failure.
var errHelp = errors.New("help")

// parseFlags parses a subcommand's flags. -h prints every flag; a bad flag prints the
// error and one line pointing to -h, so the error does not scroll away behind the help.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	help := fs.Usage     // a command's own help, if it has one
	fs.Usage = func() {} // the flag package would print the help on every error; see below
	hint := fmt.Sprintf("Run 'syncwatch %s -h' for its flags.\n", fs.Name())
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			if help != nil {
				help()
			} else {
				fmt.Fprintf(stderr, "Usage of syncwatch %s:\n", fs.Name())
				fs.PrintDefaults()
			}
			return errHelp
		}
		fmt.Fprint(stderr, hint) // the flag package printed the error itself
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "syncwatch %s: unexpected argument %q\n%s", fs.Name(), fs.Arg(0), hint)
		return errUsage
	}
	return nil
}
