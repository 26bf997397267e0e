package sqlitestore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/sqlitestore"
)

// ExampleOpen opens (creating it) a database file, which keeps accounts across restarts,
// and stores a first administrator; the same database also keeps the scs sessions.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "restauth-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	store, err := sqlitestore.Open(ctx, filepath.Join(dir, "restauth.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	admin := &restauth.User{Username: "admin", IsActive: true, IsStaff: true, IsSuperuser: true, DateJoined: time.Now()}
	email := &restauth.EmailAddress{Email: "admin@example.com", Verified: true, Primary: true}
	if err := store.CreateUser(ctx, admin, email); err != nil {
		log.Fatal(err)
	}

	// Hand store to restauth, and keep sessions in the same file.
	_ = restauth.Config{Store: store, Sessions: restauth.SessionConfig{Store: store.SessionStore()}}

	u, err := store.UserByUsername(ctx, "ADMIN")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Username, u.Email)
	// Output: admin admin@example.com
}
