package restauth_test

import (
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessionSavedWithGobStillLogsIn: a session an earlier version saved with scs's gob
// codec still authenticates after the upgrade to restauth's codec, and the next save
// writes it in the new format.
func TestSessionSavedWithGobStillLogsIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("greta", goodPassword, "greta@example.com")
	c := sessionCookie(t, e, "greta")
	sm := e.svc.Sessions()
	key := storeKey(c.Value)
	b, found, err := sm.Store.Find(key)
	require.NoError(t, err)
	require.True(t, found)
	_, _, err = scs.GobCodec{}.Decode(b)
	require.Error(t, err, "the manager saves in restauth's format, not gob")

	deadline, values, err := sm.Codec.Decode(b)
	require.NoError(t, err)
	old, err := scs.GobCodec{}.Encode(deadline, values)
	require.NoError(t, err)
	require.NoError(t, sm.Store.Commit(key, old, deadline))
	assert.True(t, sessionAuthenticates(e, c.Value), "the gob session still logs in")

	ctx := sessionContext(t, e, c.Value)
	sm.Put(ctx, "host.note", "kept")
	_, _, err = sm.Commit(ctx)
	require.NoError(t, err)
	b, found, err = sm.Store.Find(key)
	require.NoError(t, err)
	require.True(t, found)
	_, _, err = scs.GobCodec{}.Decode(b)
	assert.Error(t, err, "saved again, in restauth's format")
	assert.True(t, sessionAuthenticates(e, c.Value))
	assert.Equal(t, "kept", sm.GetString(sessionContext(t, e, c.Value), "host.note"))
}
