package pgstore

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// TestConnectTimeoutIsStoreTimeout: a database that accepts connections and never answers
// (frozen, as the fault suite's SIGSTOP makes it) fails the pool's connect on its own
// connect timeout, which may pass before the request's deadline; that is a store timeout
// (503, nothing reached the database), not a server error (issue #17, F5).
func TestConnectTimeoutIsStoreTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() }) // held open, never answered
		}
	}()
	cfg, err := pgxpool.ParseConfig("postgres://nobody@" + ln.Addr().String() + "/db?sslmode=disable")
	require.NoError(t, err)
	cfg.ConnConfig.ConnectTimeout = 20 * time.Millisecond
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	var one int
	err = storeErr(pool.QueryRow(context.Background(), "SELECT 1").Scan(&one), "user", "alice")
	require.Error(t, err)
	assert.ErrorIs(t, err, restauth.ErrStoreTimeout)
}
