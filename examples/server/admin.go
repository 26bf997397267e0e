package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/restauth/restauth"
)

// This file holds the administrative commands. Each prints one sentence saying what it
// did, and its errors are sentences too (adminError): an operator reads them, not a
// program, so they never show Go's map or struct syntax.

// createUserArgs are createuser's flags.
type createUserArgs struct {
	username, email  string
	staff, superuser bool
}

func createUserFlags() (*flag.FlagSet, *createUserArgs) {
	a := &createUserArgs{}
	fs := flag.NewFlagSet("createuser", flag.ContinueOnError)
	fs.StringVar(&a.username, "username", "", "user name (required)")
	fs.StringVar(&a.email, "email", "", "e-mail address")
	fs.BoolVar(&a.staff, "staff", false, "mark the user as staff (is_staff)")
	// InvenTree's web UI shows a section only to users holding its role, and by default
	// (restauth.DefaultRoles) only a superuser holds any: the first account needs this.
	fs.BoolVar(&a.superuser, "superuser", false, "make the user a superuser, holding every role (is_superuser)")
	return fs, a
}

// parseCreateUser is Django's createsuperuser for restauth: the password comes from
// $RESTAUTH_PASSWORD or standard input, never from the command line, where other users
// of the machine could read it.
func parseCreateUser(args []string) (runner, error) {
	fs, cu := createUserFlags()
	fs.SetOutput(io.Discard) // run prints the mistake and the usage
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("createuser takes no arguments besides its flags, not %q", fs.Arg(0))
	}
	if cu.username == "" {
		return nil, errors.New("createuser needs -username")
	}
	return func(ctx context.Context, a *app, env cmdEnv) error {
		return createUser(ctx, a, *cu, env)
	}, nil
}

func createUser(ctx context.Context, a *app, cu createUserArgs, env cmdEnv) error {
	password := env.getenv("RESTAUTH_PASSWORD")
	if password == "" {
		fmt.Fprint(env.stdout, "Password: ")
		line, err := bufio.NewReader(env.stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("createuser: the password could not be read from standard input: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		fmt.Fprintln(env.stdout)
	}
	u, err := a.svc.CreateUser(ctx, restauth.NewUser{Username: cu.username, Email: cu.email, Password: password,
		EmailVerified: cu.email != "", IsStaff: cu.staff, IsSuperuser: cu.superuser})
	if err != nil {
		return adminError("createuser", err)
	}
	kind := "user"
	switch {
	case u.IsSuperuser:
		kind = "superuser"
	case u.IsStaff:
		kind = "staff user"
	}
	fmt.Fprintf(env.stdout, "Created %s %q (id %d).\n", kind, u.Username, u.ID)
	return nil
}

func tokenFlags() (fs *flag.FlagSet, name *string) {
	fs = flag.NewFlagSet("token", flag.ContinueOnError)
	name = fs.String("name", "", "token name")
	return fs, name
}

// parseToken is drf_create_token: the token command prints a new API token for USER once.
func parseToken(args []string) (runner, error) {
	if len(args) > 0 && isHelp(args[0]) {
		return nil, flag.ErrHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return nil, errors.New("token needs the user name first, then its flags")
	}
	fs, name := tokenFlags()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("token takes one user name, not also %q", fs.Arg(0))
	}
	username := args[0]
	return func(ctx context.Context, a *app, env cmdEnv) error {
		u, err := lookupUser(ctx, a, "token", username)
		if err != nil {
			return err
		}
		issued, err := a.svc.IssueToken(ctx, u, *name)
		if err != nil {
			return adminError("token", err)
		}
		fmt.Fprintln(env.stdout, issued.Key)
		return nil
	}, nil
}

// resetMFA removes a user's TOTP device and recovery codes, for a user who lost both.
func resetMFA(ctx context.Context, a *app, command, username string, stdout io.Writer) error {
	u, err := lookupUser(ctx, a, command, username)
	if err != nil {
		return err
	}
	if err := a.svc.ResetMFA(ctx, u.ID); err != nil {
		return adminError(command, err)
	}
	fmt.Fprintf(stdout, "MFA reset for %s: they log in with their password and can enrol again.\n", u.Username)
	return nil
}

// deactivateUser is Service.DeactivateUser: the account stays, every credential is refused.
func deactivateUser(ctx context.Context, a *app, command, username string, stdout io.Writer) error {
	u, err := lookupUser(ctx, a, command, username)
	if err != nil {
		return err
	}
	was := ""
	if !u.IsActive {
		was = " (it already was)"
	}
	if _, err := a.svc.DeactivateUser(ctx, u.ID); err != nil {
		return adminError(command, err)
	}
	fmt.Fprintf(stdout, "Deactivated user %q (id %d)%s: their logins, tokens and sessions are refused from now on; nothing is deleted.\n", u.Username, u.ID, was)
	return nil
}

// deleteUser is Service.DeleteUser. It asks nothing, as an administrator's script needs;
// the sentence it prints says what is gone.
func deleteUser(ctx context.Context, a *app, command, username string, stdout io.Writer) error {
	u, err := lookupUser(ctx, a, command, username)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteUser(ctx, u.ID); err != nil {
		return adminError(command, err)
	}
	fmt.Fprintf(stdout, "Deleted user %q (id %d) with their e-mail addresses, API tokens, social accounts and MFA records.\n", u.Username, u.ID)
	return nil
}

// revokeCredentials is Service.RevokeAllCredentials. The count of tokens is taken before,
// from the same store, because the Service reports it only in its audit event.
func revokeCredentials(ctx context.Context, a *app, command, username string, stdout io.Writer) error {
	u, err := lookupUser(ctx, a, command, username)
	if err != nil {
		return err
	}
	tokens, err := a.store.Tokens(ctx, u.ID)
	if err != nil {
		return adminError(command, err)
	}
	live := 0
	for i := range tokens {
		if !tokens[i].Revoked {
			live++
		}
	}
	err = a.svc.RevokeAllCredentials(ctx, u.ID)
	if errors.Is(err, errors.ErrUnsupported) {
		return &sentenceError{cause: err, text: fmt.Sprintf(
			"%s: the API tokens of %q are revoked, but their sessions were not ended: the session store cannot list its sessions.", command, u.Username)}
	}
	if err != nil {
		return adminError(command, err)
	}
	fmt.Fprintf(stdout, "Revoked %s of %q and ended every session they were logged into; their password is unchanged.\n", plural(live, "API token"), u.Username)
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func lookupUser(ctx context.Context, a *app, command, username string) (*restauth.User, error) {
	u, err := a.store.UserByUsername(ctx, username)
	if errors.Is(err, restauth.ErrNotFound) {
		return nil, &sentenceError{cause: err, text: fmt.Sprintf("%s: there is no user %q.", command, username)}
	}
	if err != nil {
		return nil, adminError(command, err)
	}
	return u, nil
}

// sentenceError is an error worded for the operator; it still matches its cause with
// errors.Is and errors.As.
type sentenceError struct {
	text  string
	cause error
}

func (e *sentenceError) Error() string { return e.text }
func (e *sentenceError) Unwrap() error { return e.cause }

// adminError words err for the operator. A ValidationError becomes one line per message,
// "createuser: the password is refused: This password is too short. …", with the field
// named in words; a vanished user becomes a sentence; other errors keep their text after
// the command's name.
func adminError(command string, err error) error {
	var verr *restauth.ValidationError
	switch {
	case errors.As(err, &verr):
		return &sentenceError{cause: err, text: describeRefusal(command, verr.Fields)}
	case errors.Is(err, restauth.ErrNotFound):
		return &sentenceError{cause: err, text: command + ": the user no longer exists."}
	}
	return fmt.Errorf("%s: %w", command, err)
}

// fieldWords names the fields a ValidationError can carry as an operator reads them; the
// order is the one they are asked in, so the lines read as a form would.
var fieldWords = []struct{ field, words string }{
	{"username", "the user name"},
	{"email", "the e-mail address"},
	{"password", "the password"},
	{"password1", "the password"},
	{"password2", "the repeated password"},
	{"name", "the token name"},
}

func describeRefusal(command string, fields map[string][]string) string {
	var lines []string
	done := map[string]bool{}
	add := func(field, words string) {
		done[field] = true
		for _, msg := range fields[field] {
			if words == "" {
				lines = append(lines, command+": "+msg)
			} else {
				lines = append(lines, command+": "+words+" is refused: "+msg)
			}
		}
	}
	for _, f := range fieldWords {
		add(f.field, f.words)
	}
	rest := make([]string, 0, len(fields))
	for field := range fields {
		if !done[field] {
			rest = append(rest, field)
		}
	}
	sort.Strings(rest)
	for _, field := range rest {
		switch field {
		case "non_field_errors", "detail":
			add(field, "")
		default:
			add(field, "the "+strings.ReplaceAll(field, "_", " "))
		}
	}
	if len(lines) == 0 {
		return command + ": the input is refused."
	}
	return strings.Join(lines, "\n")
}
