package restauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// Mount both handlers and protect the application's own routes with the same
// authentication.
func ExampleService_Handler() {
	svc, err := restauth.New(restauth.Config{
		Store:     memstore.New(),
		Secret:    []byte("an-example-secret-of-at-least-32-bytes"),
		SiteURL:   "http://localhost:8000",
		Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1000},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", svc.Handler())
	mux.Handle("/api/user/", svc.UserHandler())
	mux.Handle("/api/things/", svc.Middleware(restauth.RequireUser(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			u, _ := restauth.UserFromContext(r.Context())
			fmt.Fprintf(w, "things of %s", u.Username)
		}))))

	register := httptest.NewRequest(http.MethodPost, "/api/auth/registration/",
		strings.NewReader(`{"username": "ada", "password1": "analytical-engine", "password2": "analytical-engine"}`))
	register.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, register)
	fmt.Println("registration:", rec.Code)

	res, err := svc.Login(context.Background(), restauth.LoginRequest{Username: "ada", Password: "analytical-engine"})
	if err != nil {
		panic(err)
	}
	things := httptest.NewRequest(http.MethodGet, "/api/things/", nil)
	things.Header.Set("Authorization", "Token "+res.Token.Key)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, things)
	fmt.Println(rec.Code, rec.Body.String())

	anonymous := httptest.NewRecorder()
	mux.ServeHTTP(anonymous, httptest.NewRequest(http.MethodGet, "/api/things/", nil))
	fmt.Println(anonymous.Code, anonymous.Body.String())
	// Output:
	// registration: 201
	// 200 things of ada
	// 401 {"detail":"Authentication credentials were not provided."}
}

// Operations are Service methods too; errors are typed.
func ExampleService_Register() {
	svc, _ := restauth.New(restauth.Config{
		Store: memstore.New(), Secret: []byte("an-example-secret-of-at-least-32-bytes"), SiteURL: "http://localhost:8000",
		Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1000},
	})
	_, err := svc.Register(context.Background(), restauth.RegisterRequest{Username: "ada.lovelace", Password1: "ada.lovelace1", Password2: "ada.lovelace1"})
	var verr *restauth.ValidationError
	if errors.As(err, &verr) {
		fmt.Println(verr.Fields["non_field_errors"])
	}
	// Output:
	// [The password is too similar to the username.]
}
