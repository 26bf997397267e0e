package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
)

// errUsage reports a command line the server cannot run. Whoever returns it has already
// printed what is wrong and the usage to standard error; main exits 2 without a word more,
// as the flag package's ExitOnError does.
var errUsage = errors.New("usage error")

// cmdEnv is what a command runs with besides the app.
type cmdEnv struct {
	opts   *options
	logger *slog.Logger
	stdin  io.Reader
	stdout io.Writer
	getenv func(string) string
}

// runner runs a parsed command on the opened app.
type runner func(ctx context.Context, a *app, env cmdEnv) error

// command is one sub-command. Its arguments are parsed before the app opens, so that a
// wrong command line is a usage error that opens no database and creates no file.
type command struct {
	name     string
	synopsis string // its arguments, for the usage
	summary  string // what it does, in one line
	// admin commands run once against the store and exit; only serve is not one.
	admin bool
	// parse returns the runner, flag.ErrHelp when its help was asked for, or a usage
	// error (the message alone: the caller prints it with the command's usage).
	parse func(args []string) (runner, error)
	// flags, when the command has its own, defines them for its usage.
	flags func() *flag.FlagSet
}

// commands are the sub-commands in the order the usage lists them; serve is the default.
var commands = []command{
	{name: "serve", summary: "answer HTTP on -addr until SIGINT or SIGTERM (the default command)", parse: parseServe},
	{name: "createuser", synopsis: "-username U [-email E] [-staff] [-superuser]", admin: true, parse: parseCreateUser,
		flags:   func() *flag.FlagSet { fs, _ := createUserFlags(); return fs },
		summary: "create an account; the password comes from $RESTAUTH_PASSWORD or standard input"},
	{name: "token", synopsis: "USER [-name N]", admin: true, parse: parseToken,
		flags:   func() *flag.FlagSet { fs, _ := tokenFlags(); return fs },
		summary: "print a new API token for USER, once"},
	{name: "mfa-reset", synopsis: "USER", admin: true, parse: userCommand("mfa-reset", resetMFA),
		summary: "remove USER's TOTP device and recovery codes, for a user who lost both"},
	{name: "deactivate", synopsis: "USER", admin: true, parse: userCommand("deactivate", deactivateUser),
		summary: "refuse USER's logins, tokens and sessions from now on; nothing is deleted"},
	{name: "delete", synopsis: "USER", admin: true, parse: userCommand("delete", deleteUser),
		summary: "delete USER with their addresses, tokens, social accounts and MFA records"},
	{name: "revoke", synopsis: "USER", admin: true, parse: userCommand("revoke", revokeCredentials),
		summary: "revoke every API token of USER and end all their sessions; the password stays"},
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// commandNames lists the sub-commands for an error message: "a, b or c".
func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// printUsage writes the whole usage: every command on one line, then the flags.
func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: server [flags] [command [arguments]]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands (the flags come before the command):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.synopsis), c.summary)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Flags:")
	fs := newFlagSet(&options{})
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// printCommandUsage writes one command's usage line, with its own flags if it has any.
func printCommandUsage(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: server [flags] %s\n", strings.TrimSpace(c.name+" "+c.synopsis))
	fmt.Fprintf(w, "%s.\n", c.summary)
	if fs != nil {
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprintln(w, "See server -help for the flags and the other commands.")
}

// commandFlags is the command's own flag set for its usage, or nil.
func commandFlags(c command) *flag.FlagSet {
	if c.flags == nil {
		return nil
	}
	return c.flags()
}

// isHelp reports whether arg asks for help, as the flag package understands it.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--h", "--help":
		return true
	}
	return false
}

// userCommand parses the arguments of a command whose only argument is a user name.
func userCommand(name string, do func(ctx context.Context, a *app, command, username string, stdout io.Writer) error) func([]string) (runner, error) {
	return func(args []string) (runner, error) {
		if len(args) == 1 && isHelp(args[0]) {
			return nil, flag.ErrHelp
		}
		if len(args) != 1 || strings.HasPrefix(args[0], "-") {
			return nil, fmt.Errorf("%s takes one argument, the user name", name)
		}
		username := args[0]
		return func(ctx context.Context, a *app, env cmdEnv) error {
			return do(ctx, a, name, username, env.stdout)
		}, nil
	}
}

func parseServe(args []string) (runner, error) {
	if len(args) == 1 && isHelp(args[0]) {
		return nil, flag.ErrHelp
	}
	if len(args) > 0 {
		return nil, fmt.Errorf("serve takes no arguments (its flags come before it)")
	}
	return func(ctx context.Context, a *app, env cmdEnv) error { return listenAndServe(ctx, a, env) }, nil
}
