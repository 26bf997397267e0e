// Package storetest is the conformance suite for restauth.Store implementations.
//
// A store's own test calls Run with a constructor of fresh, empty stores:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) restauth.Store { return memstore.New() })
//	}
//
// The suite checks only what the restauth.Store contract promises, so that in-memory and SQL
// stores are held to the same rules: no particular ID values (only that they are positive
// and increase), times compared at microsecond precision and in any location, a zero time
// standing for "never" (a NULL column), and an empty ExtraData equal to a nil one. Every
// subtest calls the constructor for a store of its own and runs in parallel with the others,
// so the constructor must be safe to call concurrently and its stores must not share data;
// release resources with t.Cleanup.
//
// A store whose instances share a database (SQL stores, used by many processes) also calls
// RunShared with a constructor of two instances over one fresh database, which races every
// single-use and uniqueness rule across them.
//
// A SQL store's release-upgrade test writes, with its own SQL against the schema of the
// last release, the rows ReleaseFixture gives the values of, opens that database with
// today's store, and calls CheckUpgraded, which reads them back through the Store
// interface and checks that every rule still holds on them.
package storetest
