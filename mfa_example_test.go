package restauth_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/otptest"
	"github.com/restauth/restauth/memstore"
)

// Enrol a user in TOTP and log in with the second factor, through the Service's methods
// (the mfa/ routes and the login route call the same ones).
func ExampleService_ActivateTOTP() {
	ctx := context.Background()
	svc, err := restauth.New(restauth.Config{
		Store:     memstore.New(),
		Secret:    []byte("an-example-secret-of-at-least-32-bytes"),
		SiteURL:   "https://parts.example.com",
		Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1000},
		MFA:       restauth.MFAConfig{Enabled: true},
	})
	if err != nil {
		panic(err)
	}
	reg, err := svc.Register(ctx, restauth.RegisterRequest{Username: "ada", Password1: "analytical-engine", Password2: "analytical-engine"})
	if err != nil {
		panic(err)
	}

	// The client shows status.URL as a QR code; the user's app scans it.
	status, err := svc.TOTPStatus(ctx, reg.User)
	if err != nil {
		panic(err)
	}
	app, err := otptest.Scan(status.URL) // stands in for the phone
	if err != nil {
		panic(err)
	}
	recoveryCodes, err := svc.ActivateTOTP(ctx, reg.User, app.Code(time.Now()))
	if err != nil {
		panic(err)
	}
	fmt.Println("recovery codes:", len(recoveryCodes))

	_, err = svc.Login(ctx, restauth.LoginRequest{Username: "ada", Password: "analytical-engine"})
	fmt.Println("password alone:", errors.Is(err, restauth.ErrMFARequired))

	res, err := svc.Login(ctx, restauth.LoginRequest{Username: "ada", Password: "analytical-engine", MFACode: recoveryCodes[0]})
	if err != nil {
		panic(err)
	}
	fmt.Println("with a recovery code:", res.MFAMethod)

	_, err = svc.Login(ctx, restauth.LoginRequest{Username: "ada", Password: "analytical-engine", MFACode: recoveryCodes[0]})
	fmt.Println("the same code again:", errors.Is(err, restauth.ErrInvalidMFACode))
	// Output:
	// recovery codes: 10
	// password alone: true
	// with a recovery code: recovery_code
	// the same code again: true
}
