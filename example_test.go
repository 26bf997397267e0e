package restauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// Mount the /api/ tree and the reverse-proxy check, and protect the application's own
// routes with the same authentication. README.md's "Embedding" section quotes the lines between the README
// markers (TestREADMEQuotesEmbeddingExample keeps the two the same), so the snippet there
// compiles and runs; it keeps the default (production) password hashing for that reason.
func ExampleService_Handler() {
	store := memstore.New()
	secret := []byte("an-example-secret-of-at-least-32-bytes") // in production: from configuration
	things := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := restauth.UserFromContext(r.Context()) // RequireUser lets only users through
		fmt.Fprintf(w, "things of %s", u.Username)
	})

	// README:embedding
	svc, err := restauth.New(restauth.Config{
		Store:   store,                 // memstore.New(), sqlitestore.Open(…), pgstore.Open(…)
		Secret:  secret,                // ≥ 32 random bytes, the same on every instance
		SiteURL: "https://example.com", // e-mailed links are built from this only
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", svc.APIHandler())             // GET /api/, /api/auth/…, /api/user/…, JSON 404s
	mux.Handle("/auth/{$}", svc.AuthRequestHandler()) // 200 or 403 for a proxy's auth_request
	// Your own routes, authenticated the same way (Token → Basic → session with CSRF):
	mux.Handle("/api/things/", svc.Middleware(restauth.RequireUser(things)))
	// README:end

	info := httptest.NewRecorder()
	mux.ServeHTTP(info, httptest.NewRequest(http.MethodGet, "/api/", nil))
	fmt.Println("server info:", info.Code, info.Header().Get("Content-Type"))
	unknown := httptest.NewRecorder()
	mux.ServeHTTP(unknown, httptest.NewRequest(http.MethodGet, "http://example.com/api/nothing/", nil))
	fmt.Println(unknown.Code, unknown.Body.String())

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
	req := httptest.NewRequest(http.MethodGet, "/api/things/", nil)
	req.Header.Set("Authorization", "Token "+res.Token.Key)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())

	anonymous := httptest.NewRecorder()
	mux.ServeHTTP(anonymous, httptest.NewRequest(http.MethodGet, "/api/things/", nil))
	fmt.Println(anonymous.Code, anonymous.Body.String())

	for _, auth := range []string{"Token " + res.Token.Key, ""} {
		check := httptest.NewRequest(http.MethodGet, "/auth/", nil)
		if auth != "" {
			check.Header.Set("Authorization", auth)
		}
		rec = httptest.NewRecorder()
		mux.ServeHTTP(rec, check)
		fmt.Printf("auth_request: %d %q\n", rec.Code, rec.Body.String())
	}
	// Output:
	// server info: 200 application/json
	// 404 {"detail":"API endpoint not found","url":"http://example.com/api/nothing/"}
	// registration: 204
	// 200 things of ada
	// 401 {"detail":"Authentication credentials were not provided."}
	// auth_request: 200 ""
	// auth_request: 403 ""
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

// Create a Service and use its operations without HTTP: they own every rule, so a direct
// caller gets the same validation, rate limits and audit events as the routes.
func ExampleNew() {
	ctx := context.Background()
	svc, err := restauth.New(restauth.Config{
		Store:     memstore.New(),
		Secret:    []byte("an-example-secret-of-at-least-32-bytes"),
		SiteURL:   "http://localhost:8000",
		Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1000},
	})
	if err != nil {
		panic(err)
	}
	if _, err := svc.Register(ctx, restauth.RegisterRequest{Username: "ada", Password1: "analytical-engine", Password2: "analytical-engine"}); err != nil {
		panic(err)
	}
	res, err := svc.Login(ctx, restauth.LoginRequest{Username: "ada", Password: "analytical-engine"})
	if err != nil {
		panic(err)
	}
	fmt.Println("logged in:", res.User.Username, strings.HasPrefix(res.Token.Key, "inv-"))

	// Wrong passwords count towards RateLimits.LoginFailedPerAccount (5 per 5 minutes)
	// before the password is checked; then even the right one is refused for a while.
	for {
		_, err = svc.Login(ctx, restauth.LoginRequest{Username: "ada", Password: "difference-engine"})
		if !errors.Is(err, restauth.ErrInvalidCredentials) {
			break
		}
	}
	_, err = svc.Login(ctx, restauth.LoginRequest{Username: "ada", Password: "analytical-engine"})
	var throttled *restauth.ThrottledError
	if errors.As(err, &throttled) {
		fmt.Println("throttled by", throttled.Rule, errors.Is(err, restauth.ErrThrottled))
	}
	// Output:
	// logged in: ada true
	// throttled by login_failed_account true
}

// Wrap a host route in Middleware: requests authenticated by a token (or Basic, or the
// session cookie) reach it with the user in their context; anonymous ones pass through
// as anonymous unless RequireUser refuses them.
func ExampleService_Middleware() {
	ctx := context.Background()
	svc, err := restauth.New(restauth.Config{
		Store:     memstore.New(),
		Secret:    []byte("an-example-secret-of-at-least-32-bytes"),
		SiteURL:   "http://localhost:8000",
		Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1000},
	})
	if err != nil {
		panic(err)
	}
	hello := svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := restauth.UserFromContext(r.Context()); ok {
			fmt.Fprintf(w, "hello %s", u.Username)
			return
		}
		fmt.Fprint(w, "hello stranger")
	}))

	reg, err := svc.Register(ctx, restauth.RegisterRequest{Username: "ada", Password1: "analytical-engine", Password2: "analytical-engine"})
	if err != nil {
		panic(err)
	}
	issued, err := svc.IssueToken(ctx, reg.User, "script")
	if err != nil {
		panic(err)
	}
	for _, auth := range []string{"", "Token " + issued.Key, "Token inv-not-a-real-key"} {
		req := httptest.NewRequest(http.MethodGet, "/hello", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		hello.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 hello stranger
	// 200 hello ada
	// 401 {"detail":"Invalid token."}
}

// A host that calls the operations itself on behalf of a remote client (its own login
// endpoint, a gRPC service, a job) names the client in the context, so that the
// per-address rate limits apply and audit events carry its address. Without a Client only
// the per-account rules apply: a shared "unknown address" bucket would let one caller
// lock everybody out.
func ExampleWithClient() {
	svc, err := restauth.New(restauth.Config{
		Store:      memstore.New(),
		Secret:     []byte("an-example-secret-of-at-least-32-bytes"),
		SiteURL:    "http://localhost:8000",
		Passwords:  restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1000},
		RateLimits: restauth.RateLimits{LoginFailedPerIP: restauth.RateRule{Limit: 2, Window: time.Minute}},
	})
	if err != nil {
		panic(err)
	}
	remote := restauth.WithClient(context.Background(), restauth.Client{Addr: "203.0.113.7", UserAgent: "inventree-python/0.17"})

	// One address guessing at several accounts: the third attempt is refused.
	for _, name := range []string{"ada", "bob", "carol"} {
		_, err := svc.Login(remote, restauth.LoginRequest{Username: name, Password: "guess"})
		var throttled *restauth.ThrottledError
		if errors.As(err, &throttled) {
			fmt.Println(name+":", "throttled by", throttled.Rule)
		} else {
			fmt.Println(name+":", "wrong credentials", errors.Is(err, restauth.ErrInvalidCredentials))
		}
	}
	_, err = svc.Login(context.Background(), restauth.LoginRequest{Username: "dave", Password: "guess"})
	fmt.Println("no client:", "wrong credentials", errors.Is(err, restauth.ErrInvalidCredentials))
	// Output:
	// ada: wrong credentials true
	// bob: wrong credentials true
	// carol: throttled by login_failed_ip
	// no client: wrong credentials true
}
