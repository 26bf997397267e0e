package restauth_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// idpTamper sits in front of mockoidc's endpoints to play a misbehaving or attacking
// party: it can swap the nonce the browser sends, and make the provider serve a second
// client ("other-client") whose codes a lax provider would still exchange for us.
type idpTamper struct {
	m *mockoidc.MockOIDC

	mu sync.Mutex
	// nonce, when set, replaces the nonce of the next authorization requests.
	nonce string
	// otherCodes are codes issued to otherClient.
	otherCodes map[string]bool
	// strict makes the token endpoint refuse codes issued to another client, as a correct
	// provider does; otherwise it answers with an ID token for that other client.
	strict bool
}

const otherClient = "other-client"

func (tp *idpTamper) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case mockoidc.AuthorizationEndpoint:
			q := r.URL.Query()
			tp.mu.Lock()
			if tp.nonce != "" {
				q.Set("nonce", tp.nonce)
			}
			tp.mu.Unlock()
			forOther := q.Get("client_id") == otherClient
			if forOther {
				q.Set("client_id", tp.m.ClientID)
			}
			r.URL.RawQuery = q.Encode()
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			if forOther {
				loc, _ := url.Parse(rec.Header().Get("Location"))
				tp.mu.Lock()
				tp.otherCodes[loc.Query().Get("code")] = true
				tp.mu.Unlock()
			}
			copyResponse(w, rec)
		case mockoidc.TokenEndpoint:
			_ = r.ParseForm()
			tp.mu.Lock()
			forOther, strict := tp.otherCodes[r.PostForm.Get("code")], tp.strict
			tp.mu.Unlock()
			if forOther && strict {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"code was issued to another client"}`)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			if forOther && rec.Code == http.StatusOK {
				var body map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
					claims := jwt.MapClaims{}
					if _, _, err := jwt.NewParser().ParseUnverified(body["id_token"].(string), claims); err == nil {
						claims["aud"] = []string{otherClient}
						if signed, err := tp.m.Keypair.SignJWT(claims); err == nil {
							body["id_token"] = signed
							raw, _ := json.Marshal(body)
							rec.Body.Reset()
							rec.Body.Write(raw)
							rec.Header().Del("Content-Length")
						}
					}
				}
			}
			copyResponse(w, rec)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// startMockOIDC runs a real OpenID Connect provider on loopback with idpTamper in front.
func startMockOIDC(t *testing.T) (*mockoidc.MockOIDC, *idpTamper) {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	require.NoError(t, err)
	tp := &idpTamper{m: m, otherCodes: map[string]bool{}}
	require.NoError(t, m.AddMiddleware(tp.middleware))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, m.Start(ln, nil))
	t.Cleanup(func() { _ = m.Shutdown() })
	return m, tp
}

func mockProvider(id string, m *mockoidc.MockOIDC) restauth.SocialProvider {
	return restauth.SocialProvider{ID: id, Name: "Mock " + id, ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer()}
}

func mockUser(sub, username, email string, verified bool) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: sub, PreferredUsername: username, Email: email, EmailVerified: verified}
}

// TestSocialOIDCEndToEnd drives the whole browser flow against a real OpenID Connect
// provider: login creating a user, a second login finding it, connect from a logged-in
// session, listing, disconnecting, the last-login-method guard, and the attacks.
func TestSocialOIDCEndToEnd(t *testing.T) {
	t.Parallel()
	m, tp := startMockOIDC(t)
	e := newSSOEnv(t, func(c *restauth.Config) {
		c.Social.Registration = true
		c.Social.Providers = []restauth.SocialProvider{mockProvider("mock", m), mockProvider("mock2", m)}
	})
	ctx := t.Context()
	browser := func() *ssoBrowser { return e.ssoBrowser(m.Addr()) }

	// 1. A first login creates the user, with the provider's verified address.
	m.QueueUser(mockUser("sub-alice", "alice", "alice@example.com", true))
	alice := browser()
	toProvider := alice.hop("/api/auth/social/mock/login/")
	q := toProvider.Query()
	assert.Equal(t, m.AuthorizationEndpoint(), toProvider.Scheme+"://"+toProvider.Host+toProvider.Path, "discovered lazily")
	assert.Equal(t, "openid email profile", q.Get("scope"))
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.NotEmpty(t, q.Get("nonce"))
	assert.NotEmpty(t, q.Get("state"))
	e.assertLanded(t, alice.follow(toProvider.String()), "/platform/logged-in/")
	assert.Equal(t, "alice", alice.whoami())
	aliceUser, err := e.store.UserByUsername(ctx, "alice")
	require.NoError(t, err)
	assert.False(t, aliceUser.HasUsablePassword())
	assert.Equal(t, "alice@example.com", aliceUser.Email)
	addrs, err := e.store.EmailAddresses(ctx, aliceUser.ID)
	require.NoError(t, err)
	require.Len(t, addrs, 1)
	assert.True(t, addrs[0].Verified, "the provider asserted the address verified")
	aliceKey := alice.token()

	// 2. A second login, in another browser, finds the same user and records the login.
	e.clock.Advance(90 * time.Second)
	m.QueueUser(mockUser("sub-alice", "alice-renamed", "alice@example.com", true))
	again := browser()
	e.assertLanded(t, again.follow("/api/auth/social/mock/login/"), "/platform/logged-in/")
	assert.Equal(t, "alice", again.whoami())
	users, err := e.store.UsersByEmail(ctx, "alice@example.com")
	require.NoError(t, err)
	assert.Len(t, users, 1, "no second user")

	// 3. Listing, through the contract-checked handler.
	res := e.do(http.MethodGet, "/api/auth/social/", nil, withToken(aliceKey))
	require.Equal(t, http.StatusOK, res.Code)
	list := res.List(t)
	require.Len(t, list, 1)
	assert.Equal(t, "mock", list[0]["provider"])
	assert.Equal(t, "sub-alice", list[0]["uid"])
	assert.NotEqual(t, list[0]["date_joined"], list[0]["last_login"], "the second login is recorded")
	aliceAccount := int64(list[0]["id"].(float64))

	// 4. The guard: alice has no password and no other social account.
	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/social/%d/disconnect/", aliceAccount), nil, withToken(aliceKey))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Contains(t, res.JSON(t), "non_field_errors")

	// 5. Connect a second provider account from alice's logged-in session.
	m.QueueUser(mockUser("sub-alice-2", "alice", "alice@example.com", true))
	e.assertLanded(t, alice.follow("/api/auth/social/mock2/connect/?next=/platform/settings/account"), "/platform/settings/account")
	res = e.do(http.MethodGet, "/api/auth/social/?limit=5", nil, withToken(aliceKey))
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, float64(2), res.JSON(t)["count"])

	// Now one may go; then the other is the last one and stays.
	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/social/%d/disconnect/", aliceAccount), nil, withToken(aliceKey))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{}, res.JSON(t))
	res = e.do(http.MethodGet, "/api/auth/social/", nil, withToken(aliceKey))
	list = res.List(t)
	require.Len(t, list, 1)
	assert.Equal(t, "mock2", list[0]["provider"])
	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/social/%d/disconnect/", int64(list[0]["id"].(float64))), nil, withToken(aliceKey))
	assert.Equal(t, http.StatusBadRequest, res.Code)

	// 6. Connect from a password user's session; the account then disconnects freely.
	e.register("bob", goodPassword, "bob@example.com")
	bob := browser()
	bob.login("bob", goodPassword)
	m.QueueUser(mockUser("sub-bob", "bobby", "bob@corp.example", true))
	e.assertLanded(t, bob.follow("/api/auth/social/mock/connect/"), "/platform/logged-in/")
	bobKey := bob.token()
	res = e.do(http.MethodGet, "/api/auth/social/", nil, withToken(bobKey))
	list = res.List(t)
	require.Len(t, list, 1)
	assert.Equal(t, "sub-bob", list[0]["uid"])
	// Logging in with it now logs bob in.
	m.QueueUser(mockUser("sub-bob", "bobby", "bob@corp.example", true))
	viaSSO := browser()
	e.assertLanded(t, viaSSO.follow("/api/auth/social/mock/login/"), "/platform/logged-in/")
	assert.Equal(t, "bob", viaSSO.whoami())
	// Alice cannot disconnect bob's account.
	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/social/%d/disconnect/", int64(list[0]["id"].(float64))), nil, withToken(aliceKey))
	assert.Equal(t, http.StatusNotFound, res.Code)
	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/social/%d/disconnect/", int64(list[0]["id"].(float64))), nil, withToken(bobKey))
	assert.Equal(t, http.StatusOK, res.Code)

	// 7. An account linked to alice cannot be connected to bob.
	m.QueueUser(mockUser("sub-alice-2", "alice", "alice@example.com", true))
	e.assertFailed(t, bob.follow("/api/auth/social/mock2/connect/"), "account_in_use")

	t.Run("replayed state", func(t *testing.T) {
		m.QueueUser(mockUser("sub-alice-2", "", "", false))
		b := browser()
		toProvider := b.hop("/api/auth/social/mock2/login/")
		flow := b.flowCookies()
		require.Len(t, flow, 1)
		callback := b.hop(toProvider.String())
		e.assertLanded(t, b.follow(callback.String()), "/platform/logged-in/")
		assert.Empty(t, b.flowCookies())

		// The same browser replays the callback: its flow cookie is gone.
		e.assertFailed(t, b.follow(callback.String()), "state_mismatch")
		// An attacker holding a copy of the cookie replays it: the state was consumed.
		thief := browser()
		thief.client.Jar.SetCookies(e.site.ResolveReference(&url.URL{Path: flow[0].Path}), flow)
		e.assertFailed(t, thief.follow(callback.String()), "flow_replayed")
		assert.Equal(t, "", thief.whoami())
	})

	t.Run("mismatched state", func(t *testing.T) {
		// Login CSRF: the attacker completes a flow at the provider and sends the victim
		// the callback URL. The victim's browser has no flow for that state.
		m.QueueUser(mockUser("sub-attacker", "mallory", "mallory@example.com", true))
		attacker := browser()
		attackerCallback := attacker.hop(attacker.hop("/api/auth/social/mock/login/").String())
		victim := browser()
		victim.hop("/api/auth/social/mock/login/") // the victim has a flow of its own
		e.assertFailed(t, victim.follow(attackerCallback.String()), "state_mismatch")
		assert.Equal(t, "", victim.whoami())

		// A state that is not the flow's, and no state at all.
		b := browser()
		toProvider := b.hop("/api/auth/social/mock/login/")
		m.QueueUser(mockUser("sub-alice", "alice", "", false))
		callback := b.hop(toProvider.String())
		tampered := callback.Query()
		tampered.Set("state", tampered.Get("state")+"x")
		e.assertFailed(t, b.follow(withQuery(callback, tampered)), "state_mismatch")
		tampered.Del("state")
		e.assertFailed(t, b.follow(withQuery(callback, tampered)), "state_missing")
		// The state of one provider's flow is no good at another's callback.
		wrongProvider := *callback
		wrongProvider.Path = strings.Replace(callback.Path, "/mock/", "/mock2/", 1)
		e.assertFailed(t, b.follow(wrongProvider.String()), "state_mismatch")
	})

	t.Run("wrong nonce", func(t *testing.T) {
		tp.mu.Lock()
		tp.nonce = "nonce-chosen-by-someone-else"
		tp.mu.Unlock()
		defer func() { tp.mu.Lock(); tp.nonce = ""; tp.mu.Unlock() }()
		m.QueueUser(mockUser("sub-alice", "alice", "alice@example.com", true))
		b := browser()
		e.assertFailed(t, b.follow("/api/auth/social/mock/login/"), "nonce_mismatch")
		assert.Equal(t, "", b.whoami())
	})

	t.Run("code issued for another client", func(t *testing.T) {
		// The attacker obtains a code for another client of the same provider and injects
		// it into the victim's flow (whose state it knows).
		otherCode := func() string {
			q := url.Values{"client_id": {otherClient}, "response_type": {"code"}, "scope": {"openid email"},
				"state": {"s"}, "redirect_uri": {"https://other.example/cb"}}
			m.QueueUser(mockUser("sub-alice", "alice", "alice@example.com", true))
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := noFollow.Get(m.AuthorizationEndpoint() + "?" + q.Encode())
			require.NoError(t, err)
			_ = res.Body.Close()
			require.Equal(t, http.StatusFound, res.StatusCode)
			loc, err := url.Parse(res.Header.Get("Location"))
			require.NoError(t, err)
			return loc.Query().Get("code")
		}
		for _, strict := range []bool{false, true} {
			tp.mu.Lock()
			tp.strict = strict
			tp.mu.Unlock()
			code := otherCode()
			require.NotEmpty(t, code)
			victim := browser()
			toProvider := victim.hop("/api/auth/social/mock/login/")
			injected := url.Values{"state": {toProvider.Query().Get("state")}, "code": {code}}
			want := "invalid_id_token" // a lax provider: the ID token's audience is not us
			if strict {
				want = "exchange_failed" // a correct provider refuses the code
			}
			e.assertFailed(t, victim.follow("/api/auth/social/mock/callback/?"+injected.Encode()), want)
			assert.Equal(t, "", victim.whoami())
		}
	})

	t.Run("code from another browser's flow (PKCE)", func(t *testing.T) {
		m.QueueUser(mockUser("sub-attacker", "mallory", "mallory@example.com", true))
		attacker := browser()
		stolen := attacker.hop(attacker.hop("/api/auth/social/mock/login/").String()).Query().Get("code")
		victim := browser()
		state := victim.hop("/api/auth/social/mock/login/").Query().Get("state")
		injected := url.Values{"state": {state}, "code": {stolen}}
		e.assertFailed(t, victim.follow("/api/auth/social/mock/callback/?"+injected.Encode()), "exchange_failed")
	})

	t.Run("open redirect", func(t *testing.T) {
		for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example/x", "javascript:alert(1)",
			"http://" + e.site.Host + "@evil.example/", "https://" + e.site.Host + "/x"} {
			m.QueueUser(mockUser("sub-alice-2", "alice", "alice@example.com", true))
			b := browser()
			end := b.follow("/api/auth/social/mock2/login/?next=" + url.QueryEscape(next))
			e.assertLanded(t, end, "/platform/logged-in/")
		}
		// (alice's remaining account is at mock2.) A same-origin target is honoured.
		m.QueueUser(mockUser("sub-alice-2", "alice", "alice@example.com", true))
		e.assertLanded(t, browser().follow("/api/auth/social/mock2/login/?next="+url.QueryEscape(e.srv.URL+"/platform/parts/?q=1")), "/platform/parts/")
		// Provider-supplied error text never chooses where the browser goes.
		b := browser()
		state := b.hop("/api/auth/social/mock/login/").Query().Get("state")
		evil := url.Values{"state": {state}, "error": {"https://evil.example/"}, "error_description": {"x"}}
		e.assertFailed(t, b.follow("/api/auth/social/mock/callback/?"+evil.Encode()), "provider_error")
	})

	t.Run("denied consent and expired flow", func(t *testing.T) {
		b := browser()
		state := b.hop("/api/auth/social/mock/login/").Query().Get("state")
		denied := url.Values{"state": {state}, "error": {"access_denied"}}
		e.assertFailed(t, b.follow("/api/auth/social/mock/callback/?"+denied.Encode()), "access_denied")

		m.QueueUser(mockUser("sub-alice", "alice", "alice@example.com", true))
		b = browser()
		callback := b.hop(b.hop("/api/auth/social/mock/login/").String())
		e.clock.Advance(11 * time.Minute)
		defer e.clock.Advance(-11 * time.Minute)
		e.assertFailed(t, b.follow(callback.String()), "flow_expired")
		assert.Equal(t, "", b.whoami())
	})

	t.Run("connect needs the same session", func(t *testing.T) {
		b := browser()
		b.login("bob", goodPassword)
		toProvider := b.hop("/api/auth/social/mock2/connect/")
		// bob logs out before the provider sends him back.
		res, body := b.send(http.MethodPost, "/api/auth/logout/", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, string(body))
		m.QueueUser(mockUser("sub-bob-2", "bob", "", false))
		e.assertFailed(t, b.follow(toProvider.String()), "login_required")
		_, err := e.store.SocialAccountByUID(ctx, "mock2", "sub-bob-2")
		assert.ErrorIs(t, err, restauth.ErrNotFound)
	})
}

func withQuery(u *url.URL, q url.Values) string {
	c := *u
	c.RawQuery = q.Encode()
	return c.String()
}

// TestSocialOIDCAccountRules covers what an unknown provider account may do: create a user
// only with SSO registration on, and log into an existing user by e-mail only when the
// provider asserts the address verified and the config allows it.
func TestSocialOIDCAccountRules(t *testing.T) {
	t.Parallel()
	m, _ := startMockOIDC(t)
	setup := func(t *testing.T, configure func(*restauth.Config)) *ssoEnv {
		e := newSSOEnv(t, func(c *restauth.Config) {
			c.Social.Providers = []restauth.SocialProvider{mockProvider("mock", m)}
		}, configure)
		u, _ := e.register("carol", goodPassword, "carol@example.com")
		addrs, err := e.store.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		_, err = e.store.VerifyEmailAddress(t.Context(), addrs[0].ID, true)
		require.NoError(t, err)
		return e
	}
	// The tests share one provider, so they run one after the other.
	t.Run("registration closed", func(t *testing.T) {
		e := setup(t, func(c *restauth.Config) {})
		m.QueueUser(mockUser("sub-new", "newcomer", "new@example.com", true))
		e.assertFailed(t, e.ssoBrowser(m.Addr()).follow("/api/auth/social/mock/login/"), "registration_closed")
		_, err := e.store.UserByUsername(t.Context(), "newcomer")
		assert.ErrorIs(t, err, restauth.ErrNotFound)
	})
	t.Run("verified e-mail of an existing user, linking off", func(t *testing.T) {
		e := setup(t, func(c *restauth.Config) { c.Social.Registration = true })
		m.QueueUser(mockUser("sub-carol", "carol", "carol@example.com", true))
		b := e.ssoBrowser(m.Addr())
		e.assertFailed(t, b.follow("/api/auth/social/mock/login/"), "email_in_use")
		assert.Equal(t, "", b.whoami())
	})
	t.Run("unverified e-mail of an existing user, linking on", func(t *testing.T) {
		e := setup(t, func(c *restauth.Config) { c.Social.Registration = true; c.Social.LinkByVerifiedEmail = true })
		m.QueueUser(mockUser("sub-carol", "carol", "carol@example.com", false))
		b := e.ssoBrowser(m.Addr())
		e.assertFailed(t, b.follow("/api/auth/social/mock/login/"), "email_in_use")
		assert.Equal(t, "", b.whoami())
	})
	t.Run("verified e-mail of an existing user, linking on", func(t *testing.T) {
		e := setup(t, func(c *restauth.Config) { c.Social.LinkByVerifiedEmail = true })
		m.QueueUser(mockUser("sub-carol", "carol-sso", "CAROL@example.com", true))
		b := e.ssoBrowser(m.Addr())
		e.assertLanded(t, b.follow("/api/auth/social/mock/login/"), "/platform/logged-in/")
		assert.Equal(t, "carol", b.whoami())
	})
	// Security finding 6: the stores match addresses that only Unicode case folding makes
	// equal; linking must not hand "victim@ασ.gr" to whoever controls "victim@ας.gr".
	t.Run("verified e-mail that only Unicode-folds to an existing user's, linking on", func(t *testing.T) {
		e := setup(t, func(c *restauth.Config) { c.Social.LinkByVerifiedEmail = true })
		victim, _ := e.register("victim", goodPassword, "victim@ασ.gr")
		addrs, err := e.store.EmailAddresses(t.Context(), victim.ID)
		require.NoError(t, err)
		_, err = e.store.VerifyEmailAddress(t.Context(), addrs[0].ID, true)
		require.NoError(t, err)
		m.QueueUser(mockUser("sub-attacker", "attacker", "victim@ας.gr", true))
		b := e.ssoBrowser(m.Addr())
		e.assertFailed(t, b.follow("/api/auth/social/mock/login/"), "email_in_use")
		assert.Equal(t, "", b.whoami(), "not logged in as the victim")
		accounts, err := e.store.SocialAccounts(t.Context(), victim.ID)
		require.NoError(t, err)
		assert.Empty(t, accounts, "nothing linked to the victim")
	})
	t.Run("unique usernames", func(t *testing.T) {
		e := setup(t, func(c *restauth.Config) { c.Social.Registration = true })
		m.QueueUser(mockUser("sub-other-carol", "Carol", "", false))
		b := e.ssoBrowser(m.Addr())
		e.assertLanded(t, b.follow("/api/auth/social/mock/login/"), "/platform/logged-in/")
		name := b.whoami()
		assert.True(t, strings.HasPrefix(name, "carol") && name != "carol", "got %q", name)
	})
	t.Run("mandatory verification", func(t *testing.T) {
		e := setup(t, func(c *restauth.Config) {
			c.Social.Registration = true
			c.EmailVerification = restauth.VerificationMandatory
		})
		m.QueueUser(mockUser("sub-dave", "dave", "dave@example.com", false))
		b := e.ssoBrowser(m.Addr())
		before := len(e.mailer.Messages())
		e.assertFailed(t, b.follow("/api/auth/social/mock/login/"), "email_not_verified")
		require.Len(t, e.mailer.Messages(), before+1, "a confirmation mail for the new address")
		assert.Equal(t, []string{"dave@example.com"}, e.mailer.Messages()[before].To)
		m.QueueUser(mockUser("sub-erin", "erin", "erin@example.com", true))
		e.assertLanded(t, b.follow("/api/auth/social/mock/login/"), "/platform/logged-in/")
		assert.Equal(t, "erin", b.whoami())
	})
	t.Run("provider unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		dead := "http://" + ln.Addr().String() + "/oidc"
		require.NoError(t, ln.Close())
		e := newSSOEnv(t, func(c *restauth.Config) {
			c.Social.Providers = []restauth.SocialProvider{{ID: "down", ClientID: "x", Issuer: dead}}
		})
		e.assertFailed(t, e.ssoBrowser().follow("/api/auth/social/down/login/"), "provider_unavailable")
	})
}
