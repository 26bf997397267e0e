package restauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

func TestTokenByNameReusesTheNamedToken(t *testing.T) {
	t.Parallel()
	rec := &auditRecorder{}
	e := newEnv(t, withAudit(rec))
	u, loginKey := e.register("ada", goodPassword, "")
	other, _ := e.register("bob", goodPassword, "")
	ctx := context.Background()
	rec.take()

	first, err := e.svc.TokenByName(ctx, u, "inventree python client")
	require.NoError(t, err)
	assert.Equal(t, "inventree-python-client", first.Token.Name)
	assert.Equal(t, []restauth.AuditKind{restauth.AuditTokenIssued}, rec.takeKinds())

	// The same cleaned name, asked again: the same token and key, and no new event.
	again, err := e.svc.TokenByName(ctx, u, "  inventree-python-client<b></b>")
	require.NoError(t, err)
	assert.Equal(t, first.Key, again.Key)
	assert.Equal(t, first.Token.ID, again.Token.ID)
	assert.Empty(t, rec.takeKinds())
	authed, _, err := e.svc.AuthenticateToken(ctx, again.Key)
	require.NoError(t, err)
	assert.Equal(t, u.ID, authed.ID)

	// Another user's token of that name is never handed out.
	theirs, err := e.svc.TokenByName(ctx, other, "inventree-python-client")
	require.NoError(t, err)
	assert.NotEqual(t, first.Key, theirs.Key)

	// The unnamed token of a login is not one of TokenByName's: its key exists nowhere.
	unnamed, err := e.svc.TokenByName(ctx, u, "")
	require.NoError(t, err)
	assert.NotEqual(t, loginKey, unnamed.Key)
	unnamedAgain, err := e.svc.TokenByName(ctx, u, "")
	require.NoError(t, err)
	assert.Equal(t, unnamed.Key, unnamedAgain.Key)

	// A revoked named token is passed over: the next call issues a new one.
	require.NoError(t, e.svc.RevokeToken(ctx, u, first.Token.ID))
	fresh, err := e.svc.TokenByName(ctx, u, "inventree-python-client")
	require.NoError(t, err)
	assert.NotEqual(t, first.Key, fresh.Key)

	// So is an expired one (a token is valid through its expiry day).
	e.clock.Advance(366 * 24 * time.Hour)
	renewed, err := e.svc.TokenByName(ctx, u, "inventree-python-client")
	require.NoError(t, err)
	assert.NotEqual(t, fresh.Key, renewed.Key)

	tokens, err := e.svc.Tokens(ctx, u.ID)
	require.NoError(t, err)
	named := 0
	for _, tk := range tokens {
		if tk.Name == "inventree-python-client" {
			named++
		}
	}
	assert.Equal(t, 3, named, "revoked, expired and the live one")
}

// A copy of the database yields no usable key: the store holds the SHA-256 and a sealed
// copy that only the Secret opens, bound to its row.
func TestTokenByNameStoresNoUsableKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("ada", goodPassword, "")
	ctx := context.Background()
	issued, err := e.svc.TokenByName(ctx, u, "ci")
	require.NoError(t, err)

	stored, err := e.store.TokenByID(ctx, issued.Token.ID)
	require.NoError(t, err)
	require.NotEmpty(t, stored.SealedKey)
	for _, enc := range []string{issued.Key, issued.Key[4:44], base64.StdEncoding.EncodeToString([]byte(issued.Key))} {
		assert.NotContains(t, string(stored.SealedKey), enc)
	}
	random := strings.TrimSuffix(strings.TrimPrefix(issued.Key, "inv-"), issued.Key[len(issued.Key)-9:])
	assert.NotContains(t, string(stored.SealedKey), random)

	// Under another Secret the copy does not open: the token is passed over, a new one issued.
	rotated, err := restauth.New(restauth.Config{
		Store: e.store, Secret: []byte("another-secret-another-secret-another-secret"), SiteURL: "http://testserver",
		Passwords: cheapPasswords, Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	next, err := rotated.TokenByName(ctx, u, "ci")
	require.NoError(t, err)
	assert.NotEqual(t, issued.Key, next.Key)
	assert.NotEqual(t, issued.Token.ID, next.Token.ID)

	// Tokens issued elsewhere keep no copy at all.
	plain, err := e.svc.IssueToken(ctx, u, "ci")
	require.NoError(t, err)
	stored, err = e.store.TokenByID(ctx, plain.Token.ID)
	require.NoError(t, err)
	assert.Nil(t, stored.SealedKey)
}

func TestUserTokenRoutesAnswerTheSame(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.register("ada", goodPassword, "")
	var keys []string
	for _, path := range []string{"/api/user/token/?name=cli", "/api/user/me/token/?name=cli", "/api/user/token/?name=cli"} {
		res := e.do(http.MethodGet, path, nil, withToken(key))
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		body := res.JSON(t)
		assert.Equal(t, "cli", body["name"])
		keys = append(keys, body["token"].(string))
	}
	assert.Equal(t, keys[0], keys[1])
	assert.Equal(t, keys[0], keys[2])
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/api/user/me/token/", nil).Code)
}

// TestInvenTreePythonClientConnects replays what InvenTree's Python client (inventree
// 0.23, CLIENT.md §3) sends when it connects with a username and password, against a
// host that embeds restauth as the README shows, and connects twice, as a cron script
// does: one token of the client's name is left, not one per connection.
func TestInvenTreePythonClientConnects(t *testing.T) {
	t.Parallel()
	svc, err := restauth.New(restauth.Config{
		Store:     memstore.New(),
		Secret:    testSecret,
		SiteURL:   "https://example.com",
		Passwords: cheapPasswords,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	// The README's embedding lines.
	mux := http.NewServeMux()
	mux.Handle("/api/", svc.APIHandler())
	mux.Handle("/auth/{$}", svc.AuthRequestHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	reg, err := svc.Register(context.Background(), restauth.RegisterRequest{Username: "cron", Password1: goodPassword, Password2: goodPassword})
	require.NoError(t, err)

	// get is the client's request(): the URL joined under /api/ with a trailing slash,
	// any status of 300 or more an error, and a Content-Type of exactly application/json.
	get := func(t *testing.T, endpoint string, auth string) map[string]any {
		t.Helper()
		url := srv.URL + "/api/" + endpoint
		if path, query, ok := strings.Cut(url, "?"); ok {
			url = strings.TrimSuffix(path, "/") + "/?" + query
		} else {
			url = strings.TrimSuffix(url, "/") + "/"
		}
		req, err := http.NewRequest(http.MethodGet, url, nil)
		require.NoError(t, err)
		req.Header.Set("User-Agent", "inventree-python/0.23")
		if auth != "" {
			req.Header["AUTHORIZATION"] = []string{auth} // sent as the client spells it
		}
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.Less(t, res.StatusCode, 300, "%s: %s", endpoint, raw)
		require.Equal(t, []string{"application/json"}, res.Header.Values("Content-Type"), "%s: content-type is not JSON", endpoint)
		var body map[string]any
		require.NoError(t, json.Unmarshal(raw, &body), "%s", raw)
		return body
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("cron:"+goodPassword))

	connect := func(t *testing.T) string {
		t.Helper()
		// 1. The server information, anonymously.
		info := get(t, "", "")
		assert.Equal(t, "InvenTree", info["server"], "the client warns on any other server")
		version, ok := info["apiVersion"].(float64)
		require.True(t, ok, "apiVersion: %v", info["apiVersion"])
		require.GreaterOrEqual(t, int(version), 206)
		// 2. Who am I, with Basic.
		me := get(t, "user/me", basic)
		assert.Equal(t, "cron", me["username"])
		// 3. The token of the client's default name, with Basic.
		tok := get(t, "user/token/?name=inventree-python-client", basic)
		key, ok := tok["token"].(string)
		require.True(t, ok, "token: %v", tok)
		assert.Equal(t, "inventree-python-client", tok["name"])
		// 4. Every later request: the token header only.
		assert.Equal(t, "cron", get(t, "user/me", "Token "+key)["username"])
		return key
	}
	first := connect(t)
	second := connect(t)
	assert.Equal(t, first, second, "the second connection gets the first one's token")

	tokens, err := svc.Tokens(context.Background(), reg.User.ID)
	require.NoError(t, err)
	names := map[string]int{}
	for _, tk := range tokens {
		names[tk.Name]++
	}
	assert.Equal(t, 1, names["inventree-python-client"], "two connections leave one token: %v", names)
}
