package headless_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// listedSession is one entry of auth/sessions.
type listedSession struct {
	ID         int64    `json:"id"`
	IP         string   `json:"ip"`
	UserAgent  string   `json:"user_agent"`
	CreatedAt  float64  `json:"created_at"`
	LastSeenAt *float64 `json:"last_seen_at"`
	IsCurrent  bool     `json:"is_current"`
}

func sessionList(t *testing.T, r result) []listedSession {
	t.Helper()
	require.Equal(t, http.StatusOK, r.code)
	var list []listedSession
	require.NoError(t, json.Unmarshal(r.Data, &list))
	return list
}

// currentID is the id of the caller's own session in its list.
func currentID(t *testing.T, c *client) int64 {
	t.Helper()
	for _, s := range sessionList(t, c.do(http.MethodGet, "auth/sessions", nil)) {
		if s.IsCurrent {
			return s.ID
		}
	}
	t.Fatal("no current session listed")
	return 0
}

func TestSessionsListAndEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil, tc.opts)
			for _, name := range []string{"ada", "bob"} {
				_, err := f.svc.Register(context.Background(), restauth.RegisterRequest{Username: name,
					Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
				require.NoError(t, err)
			}
			login := func(username string) *client {
				c := tc.client(f, t)
				c.do(http.MethodGet, "auth/session", nil) // the browser's csrftoken cookie
				r := c.do(http.MethodPost, "auth/login", map[string]string{"username": username, "password": "analytical-engine-1843"},
					"User-Agent", "agent-of-"+username)
				require.Equal(t, http.StatusOK, r.code)
				return c
			}

			anonymous := tc.client(f, t)
			r := anonymous.do(http.MethodGet, "auth/sessions", nil)
			assert.Equal(t, http.StatusUnauthorized, r.code)
			assert.Contains(t, r.flows(t), "login")
			r = anonymous.do(http.MethodDelete, "auth/sessions", map[string]any{"sessions": []int64{1}})
			assert.Equal(t, http.StatusUnauthorized, r.code)

			here, there, bobs := login("ada"), login("ada"), login("bob")
			list := sessionList(t, here.do(http.MethodGet, "auth/sessions", nil))
			require.Len(t, list, 2)
			assert.True(t, list[1].CreatedAt >= list[0].CreatedAt)
			assert.Equal(t, "agent-of-ada", list[0].UserAgent)
			assert.Equal(t, "127.0.0.1", list[0].IP)
			assert.NotZero(t, list[0].CreatedAt)
			assert.NotNil(t, list[0].LastSeenAt)
			thereID, bobID := currentID(t, there), currentID(t, bobs)
			hereID := currentID(t, here)
			assert.ElementsMatch(t, []int64{hereID, thereID}, []int64{list[0].ID, list[1].ID})

			tests := []struct {
				name  string
				body  any
				code  string
				param string
			}{
				{"another user's session", map[string]any{"sessions": []int64{bobID}}, "invalid_choice", "sessions"},
				{"one of them another user's", map[string]any{"sessions": []int64{thereID, bobID}}, "invalid_choice", "sessions"},
				{"an unknown id", map[string]any{"sessions": []int64{bobID + 1000}}, "invalid_choice", "sessions"},
				{"no ids", map[string]any{"sessions": []int64{}}, "required", "sessions"},
				{"no field", map[string]any{}, "required", "sessions"},
				{"not a list", map[string]any{"sessions": thereID}, "invalid_list", "sessions"},
				{"not an id", map[string]any{"sessions": []string{"x"}}, "invalid_pk_value", "sessions"},
			}
			for _, tt := range tests {
				r := here.do(http.MethodDelete, "auth/sessions", tt.body)
				require.Equal(t, http.StatusBadRequest, r.code, tt.name)
				require.Len(t, r.Errors, 1, tt.name)
				assert.Equal(t, tt.code, r.Errors[0].Code, tt.name)
				assert.Equal(t, tt.param, r.Errors[0].Param, tt.name)
			}
			assert.Equal(t, http.StatusOK, there.do(http.MethodGet, "auth/session", nil).code, "a refused deletion ended nothing")
			assert.Equal(t, http.StatusOK, bobs.do(http.MethodGet, "auth/session", nil).code)

			// Another session of ada's: it ends, the rest is listed.
			list = sessionList(t, here.do(http.MethodDelete, "auth/sessions", map[string]any{"sessions": []int64{thereID}}))
			require.Len(t, list, 1)
			assert.Equal(t, hereID, list[0].ID)
			assert.True(t, list[0].IsCurrent)
			r = there.do(http.MethodGet, "auth/session", nil)
			if there.app {
				assert.Equal(t, http.StatusGone, r.code, "the ended session's token names no session")
			} else {
				assert.Equal(t, http.StatusUnauthorized, r.code)
			}

			// The caller's own session: logged out.
			r = here.do(http.MethodDelete, "auth/sessions", map[string]any{"sessions": []int64{hereID}})
			assert.Equal(t, http.StatusUnauthorized, r.code)
			assert.Equal(t, false, r.Meta["is_authenticated"])
			r = here.do(http.MethodGet, "auth/session", nil)
			if here.app {
				assert.Equal(t, http.StatusGone, r.code)
			} else {
				assert.Equal(t, http.StatusUnauthorized, r.code)
			}
			assert.Equal(t, http.StatusOK, bobs.do(http.MethodGet, "auth/session", nil).code, "bob's session is untouched")
		})
	}
}

func TestLogoutLeavesTheSessionList(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil, tc.opts)
			_, err := f.svc.Register(context.Background(), restauth.RegisterRequest{Username: "ada",
				Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
			require.NoError(t, err)
			var cs []*client
			for range 2 {
				c := tc.client(f, t)
				c.do(http.MethodGet, "auth/session", nil) // the browser's csrftoken cookie
				require.Equal(t, http.StatusOK, c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"}).code)
				cs = append(cs, c)
			}
			require.Len(t, sessionList(t, cs[0].do(http.MethodGet, "auth/sessions", nil)), 2)
			assert.Equal(t, http.StatusUnauthorized, cs[1].do(http.MethodDelete, "auth/session", nil).code)
			list := sessionList(t, cs[0].do(http.MethodGet, "auth/sessions", nil))
			require.Len(t, list, 1)
			assert.True(t, list[0].IsCurrent)
		})
	}
}
