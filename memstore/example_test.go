package memstore_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// Example serves the auth API from an in-memory store seeded with one account, as a test
// or a throw-away development server would.
func Example() {
	ctx := context.Background()
	store := memstore.New()

	// A host app may write to the store directly, e.g. to create the first administrator.
	admin := &restauth.User{Username: "admin", IsActive: true, IsStaff: true, IsSuperuser: true, DateJoined: time.Now()}
	email := &restauth.EmailAddress{Email: "admin@example.com", Verified: true, Primary: true}
	if err := store.CreateUser(ctx, admin, email); err != nil {
		log.Fatal(err)
	}

	svc, err := restauth.New(restauth.Config{
		Store: store,
		// Load the secret from configuration in real use; it must stay the same across
		// restarts and instances.
		Secret:  []byte("example secret, at least 32 bytes long"),
		SiteURL: "http://localhost:8000",
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", svc.Handler())
	mux.Handle("/api/user/", svc.UserHandler())
	// http.ListenAndServe("localhost:8000", mux)

	// Usernames are matched case-insensitively, and User.Email mirrors the primary address.
	u, err := store.UserByUsername(ctx, "Admin")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.ID, u.Username, u.Email)
	// Output: 1 admin admin@example.com
}
