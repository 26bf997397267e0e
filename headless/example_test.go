package headless_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
	"github.com/restauth/restauth/memstore"
)

// Mounting the headless dialect beside the InvenTree 291 one, over one Service, and an
// app client logging in with the session token it is handed.
func ExampleHandler() {
	svc, err := restauth.New(restauth.Config{
		Store:     memstore.New(),
		Secret:    []byte("an-example-secret-of-at-least-32-bytes"),
		SiteURL:   "https://example.com",
		Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1000}, // cheap, for the example
	})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close(context.Background())

	// README:headless
	mux := http.NewServeMux()
	mux.Handle("/_allauth/", headless.Handler(svc, headless.Options{})) // browser and app clients
	mux.Handle("/api/auth/v1/", headless.Handler(svc, headless.Options{ // InvenTree's web UI since API 314
		Prefix: "/api/auth/", Client: headless.Browser}))
	mux.Handle("/api/", svc.APIHandler()) // the 291 dialect
	// README:end

	post := func(path, body, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("X-Session-Token", token)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	signup := post("/_allauth/app/v1/auth/signup", `{"username": "ada", "password": "analytical-engine-1843"}`, "")
	fmt.Println("signup:", signup.Code)
	login := post("/_allauth/app/v1/auth/login", `{"username": "ada", "password": "analytical-engine-1843"}`, "")
	fmt.Println("login:", login.Code, strings.Contains(login.Body.String(), `"session_token"`))
	wrong := post("/_allauth/app/v1/auth/login", `{"username": "ada", "password": "wrong"}`, "")
	fmt.Println("wrong password:", wrong.Code, strings.Contains(wrong.Body.String(), `"code":"username_password_mismatch"`))
	// Output:
	// signup: 200
	// login: 200 true
	// wrong password: 400 true
}
