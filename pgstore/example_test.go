package pgstore_test

import (
	"context"
	"log"
	"os"

	"github.com/alexedwards/scs/v2"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/pgstore"
)

// Open connects, brings the schema up to date and returns a store that several instances
// of an application can share; its SessionStore keeps their scs sessions in the same
// database.
func ExampleOpen() {
	ctx := context.Background()
	store, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"), pgstore.WithSchema("restauth"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	var _ restauth.Store = store // hand it to the restauth service

	sessions := scs.New()
	sessions.Store = store.SessionStore()

	u := &restauth.User{Username: "admin", IsActive: true, IsStaff: true}
	err = store.CreateUser(ctx, u, &restauth.EmailAddress{Email: "admin@example.com", Verified: true, Primary: true})
	if err != nil {
		log.Fatal(err) // a *restauth.ConflictError if the name or address is taken
	}
}
