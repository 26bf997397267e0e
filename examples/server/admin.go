package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/restauth/restauth"
)

// createUser is Django's createsuperuser for restauth: the password comes from
// $RESTAUTH_PASSWORD or standard input, never from the command line, where other users
// of the machine could read it.
func createUser(ctx context.Context, a *app, args []string, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("createuser", flag.ContinueOnError)
	username := fs.String("username", "", "user name (required)")
	email := fs.String("email", "", "e-mail address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("createuser: -username is required")
	}
	password := getenv("RESTAUTH_PASSWORD")
	if password == "" {
		fmt.Fprint(stdout, "Password: ")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("createuser: reading the password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		fmt.Fprintln(stdout)
	}
	u, err := a.svc.CreateUser(ctx, restauth.NewUser{Username: *username, Email: *email, Password: password, EmailVerified: *email != ""})
	if err != nil {
		var verr *restauth.ValidationError
		if errors.As(err, &verr) {
			return fmt.Errorf("createuser: %v", verr.Fields)
		}
		return err
	}
	fmt.Fprintf(stdout, "Created user %q (id %d).\n", u.Username, u.ID)
	return nil
}

// issueToken is drf_create_token: it prints a new API token for USER once.
func issueToken(ctx context.Context, a *app, args []string, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("token: usage: token USER [-name N]")
	}
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	name := fs.String("name", "", "token name")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	u, err := lookupUser(ctx, a, "token", args[0])
	if err != nil {
		return err
	}
	issued, err := a.svc.IssueToken(ctx, u, *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, issued.Key)
	return nil
}

// resetMFA removes a user's TOTP device and recovery codes, for a user who lost both.
func resetMFA(ctx context.Context, a *app, args []string, stdout io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return errors.New("mfa-reset: usage: mfa-reset USER")
	}
	u, err := lookupUser(ctx, a, "mfa-reset", args[0])
	if err != nil {
		return err
	}
	if err := a.svc.ResetMFA(ctx, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "MFA reset for %s: they log in with their password and can enrol again\n", u.Username)
	return nil
}

func lookupUser(ctx context.Context, a *app, command, username string) (*restauth.User, error) {
	u, err := a.store.UserByUsername(ctx, username)
	if errors.Is(err, restauth.ErrNotFound) {
		return nil, fmt.Errorf("%s: no user %q", command, username)
	}
	return u, err
}
