package pgstore_test

import (
	"context"
	"log"
	"os"

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

	// Hand it to the restauth service, with the sessions in the same schema.
	_ = restauth.Config{Store: store, Sessions: restauth.SessionConfig{Store: store.SessionStore()}}

	u := &restauth.User{Username: "admin", IsActive: true, IsStaff: true}
	err = store.CreateUser(ctx, u, &restauth.EmailAddress{Email: "admin@example.com", Verified: true, Primary: true})
	if err != nil {
		log.Fatal(err) // a *restauth.ConflictError if the name or address is taken
	}
}
