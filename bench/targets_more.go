package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/restauth/restauth/headless"
	"github.com/restauth/restauth/memstore"
	"github.com/restauth/restauth/sqlitestore"
)

// manyTokens is how many users, each with one token, the large-table target holds.
const manyTokens = 100_000

// newSQLiteManyTarget serves restauth on sqlitestore holding n users with a token each,
// written straight into the tables in one transaction (seeding through the Service would
// take minutes); the GET rounds present a random one of the tokens per request, so that
// most lookups miss the page cache a single hot token lives in.
func newSQLiteManyTarget(ctx context.Context, n int, logf func(string, ...any)) (*target, error) {
	st, cleanup, err := openTempSQLite(ctx)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	keys, err := fillTokens(ctx, st, n)
	if err != nil {
		_ = st.Close()
		cleanup()
		return nil, err
	}
	logf("seeded %d users and tokens in %s", n, time.Since(started).Round(time.Millisecond))
	t, _, err := newRestauthTarget(ctx, fmt.Sprintf("restauth sqlitestore %dk", n/1000), st, cheapPasswords, noCache)
	t.tokens = keys
	t.closers = append(t.closers, cleanup, func() { _ = st.Close() })
	return t, err
}

// fillTokens inserts n active users with one token each and returns the keys.
func fillTokens(ctx context.Context, st *sqlitestore.Store, n int) ([]string, error) {
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	userStmt, err := tx.PrepareContext(ctx, `INSERT INTO users (username, email, first_name, last_name, password, is_active, date_joined)
VALUES ('user' || ?1, 'user' || ?1 || '@example.com', 'First', 'Last', '!', 1, ?2)`)
	if err != nil {
		return nil, err
	}
	// last_seen is today, as for tokens in use: restauth records a token's use once a day,
	// and a first use of each of the tokens within the round would measure that write
	// instead of the lookup.
	tokenStmt, err := tx.PrepareContext(ctx, `INSERT INTO api_tokens (user_id, key_hash, key_prefix, key_suffix, name, created, expiry, last_seen)
VALUES (?, ?, ?, ?, 'bench', ?, ?, ?)`)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	expiry := now.AddDate(1, 0, 0).Truncate(24 * time.Hour)
	today := now.Truncate(24 * time.Hour) // UTC midnight, as restauth stores a day
	keys := make([]string, n)
	raw := make([]byte, 20)
	for i := range keys {
		_, _ = rand.Read(raw)
		key := "inv-" + hex.EncodeToString(raw) + "-" + now.Format("20060102") // restauth's key shape
		keys[i] = key
		res, err := userStmt.ExecContext(ctx, i, now.UnixMicro())
		if err != nil {
			return nil, err
		}
		uid, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		hash := sha256.Sum256([]byte(key))
		if _, err := tokenStmt.ExecContext(ctx, uid, hash[:], key[:8], key[len(key)-12:], now.UnixMicro(), expiry.UnixMicro(), today.UnixMicro()); err != nil {
			return nil, err
		}
	}
	return keys, tx.Commit()
}

// headlessSessionPath is the headless app client's session check.
const headlessSessionPath = "/_allauth/app/v1/auth/session"

// newHeadlessTarget serves the headless dialect on memstore and logs the bench user in
// through its app client; the GET rounds check that session (X-Session-Token).
func newHeadlessTarget(ctx context.Context) (*target, error) {
	t := &target{name: "headless session (mem)", path: headlessSessionPath, header: "X-Session-Token"}
	svc, err := newService(memstore.New(), cheapPasswords, noCache)
	if err != nil {
		return t, err
	}
	t.svc = svc
	if _, err := seed(ctx, svc); err != nil {
		return t, err
	}
	mux := http.NewServeMux()
	mux.Handle("/_allauth/", headless.Handler(svc, headless.Options{Logger: quietLogger()}))
	if err := t.serve(mux); err != nil {
		return t, err
	}
	body, _ := json.Marshal(map[string]string{"username": benchUsername, "password": benchPassword})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.baseURL+"/_allauth/app/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return t, err
	}
	req.Header.Set("Content-Type", "application/json")
	client := newClient(1)
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return t, err
	}
	defer resp.Body.Close()
	var out struct {
		Meta struct {
			SessionToken string `json:"session_token"`
		} `json:"meta"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Meta.SessionToken == "" {
		return t, fmt.Errorf("headless login answered %d (%v)", resp.StatusCode, err)
	}
	t.token = out.Meta.SessionToken
	return t, nil
}
