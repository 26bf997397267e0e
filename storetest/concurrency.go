package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// caseVariant spells name with the letters selected by the bits of i in upper case, so
// that distinct i below 1<<len(name) give distinct spellings of one username.
func caseVariant(name string, i int) string {
	b := []byte(name)
	for j := range b {
		if i>>j&1 == 1 {
			b[j] = strings.ToUpper(string(b[j]))[0]
		}
	}
	return string(b)
}

// startTogether runs n functions in goroutines released at the same moment, to make the
// races the store must survive as likely as possible, and waits for all of them.
func startTogether(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

var concurrencyTests = []test{
	{"one of 50 creations of a username in different cases succeeds", func(t *testing.T, s restauth.Store) {
		const n = 50
		ctx := t.Context()
		errs := make([]error, n)
		users := make([]*restauth.User, n)
		startTogether(n, func(i int) {
			users[i] = sampleUser(caseVariant("racingusername", i))
			errs[i] = s.CreateUser(ctx, users[i], nil)
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("two creations succeeded: %q and %q", users[winner].Username, users[i].Username)
				}
				winner = i
				continue
			}
			requireConflict(t, err, "username")
		}
		require.NotEqual(t, -1, winner, "no creation succeeded")
		got, err := s.UserByUsername(ctx, "RACINGUSERNAME")
		require.NoError(t, err)
		assert.Equal(t, users[winner].ID, got.ID)
		assert.Equal(t, users[winner].Username, got.Username)
	}},
	{"an address verified concurrently for two users ends verified for one", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		ea := addEmail(t, s, a.ID, "race@example.com", false, false)
		eb := addEmail(t, s, b.ID, "RACE@example.com", false, false)
		ids := []int64{ea.ID, eb.ID}

		const n = 20
		ctx := t.Context()
		errs := make([]error, n)
		startTogether(n, func(i int) {
			_, errs[i] = s.VerifyEmailAddress(ctx, ids[i%2], true)
		})
		won := map[int64]bool{}
		for i, err := range errs {
			if err == nil {
				won[ids[i%2]] = true
				continue
			}
			requireConflict(t, err, "email")
		}
		require.Len(t, won, 1, "verifications succeeded for %v", won)

		verified := 0
		for _, id := range ids {
			e, err := s.EmailAddressByID(ctx, id)
			require.NoError(t, err)
			if e.Verified {
				verified++
				assert.True(t, won[id], "the verified address is the one whose verifications succeeded")
				assert.True(t, e.Primary)
				requireUserEmail(t, s, e.UserID, e.Email)
			} else {
				assert.False(t, e.Primary)
				requireUserEmail(t, s, e.UserID, "")
			}
		}
		assert.Equal(t, 1, verified)
	}},
	{"concurrent token creation assigns distinct IDs", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		const n = 50
		ctx := t.Context()
		tokens := make([]*restauth.APIToken, n)
		errs := make([]error, n)
		startTogether(n, func(i int) {
			tokens[i] = sampleToken(u.ID, fmt.Sprintf("concurrent-token-%03d", i))
			errs[i] = s.CreateToken(ctx, tokens[i])
		})
		seen := map[int64]bool{}
		for i, err := range errs {
			require.NoError(t, err)
			require.Positive(t, tokens[i].ID)
			require.False(t, seen[tokens[i].ID], "ID %d assigned twice", tokens[i].ID)
			seen[tokens[i].ID] = true
			got, err := s.TokenByHash(ctx, tokens[i].KeyHash)
			require.NoError(t, err)
			assert.Equal(t, tokens[i].ID, got.ID)
		}
		list, err := s.Tokens(ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, list, n)
		ids := make([]int64, n)
		for i, tk := range list {
			ids[i] = tk.ID
		}
		requireAscending(t, ids)
	}},
	{"concurrent updates of different fields all stick", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		first, last, login, staff := "New first", "New last", base.Add(time.Hour), true
		updates := []restauth.UserUpdate{{FirstName: &first}, {LastName: &last}, {LastLogin: &login}, {IsStaff: &staff}}
		ctx := t.Context()
		for range 10 {
			errs := make([]error, len(updates))
			startTogether(len(updates), func(i int) {
				_, errs[i] = s.UpdateUser(ctx, u.ID, updates[i])
			})
			require.NoError(t, errors.Join(errs...))
		}
		want := *u
		want.FirstName, want.LastName, want.LastLogin, want.IsStaff = first, last, login, staff
		got, err := s.UserByID(ctx, u.ID)
		require.NoError(t, err)
		requireUserEqual(t, &want, got)
	}},
	{"concurrent primary additions leave exactly one primary", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		const n = 20
		ctx := t.Context()
		errs := make([]error, n)
		startTogether(n, func(i int) {
			errs[i] = s.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: u.ID, Email: fmt.Sprintf("p%02d@example.com", i), Primary: true})
		})
		require.NoError(t, errors.Join(errs...))
		es, err := s.EmailAddresses(ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, es, n)
		p := primaries(es)
		require.Len(t, p, 1)
		requireUserEmail(t, s, u.ID, p[0])
	}},
	{"concurrent verifications with makePrimaryIfNone leave exactly one primary", func(t *testing.T, s restauth.Store) {
		raceVerifications(t, [2]restauth.Store{s, s})
	}},
	{"concurrent readers and writers", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "shared-token-key")
		e := addEmail(t, s, u.ID, "a@example.com", false, false)
		ctx := t.Context()
		const n = 40
		errs := make([]error, n)
		startTogether(n, func(i int) {
			var err error
			switch i % 5 {
			case 0:
				_, err = s.TokenByHash(ctx, tk.KeyHash)
			case 1:
				err = s.TouchToken(ctx, tk.ID, day(i))
			case 2:
				_, err = s.UsersByEmail(ctx, "A@example.com")
			case 3:
				_, err = s.SetPrimaryEmailAddress(ctx, e.ID)
			case 4:
				err = s.CreateSocialAccount(ctx, sampleSocial(u.ID, "github", fmt.Sprint(i)))
			}
			errs[i] = err
		})
		require.NoError(t, errors.Join(errs...))
		list, err := s.SocialAccounts(ctx, u.ID)
		require.NoError(t, err)
		assert.Len(t, list, n/5)
		requireUserEmail(t, s, u.ID, "a@example.com")
	}},
}

// raceVerifications races, alternating between the stores, VerifyEmailAddress with
// makePrimaryIfNone of the unverified addresses of users who have no primary one, and
// requires every verification to succeed and each user to end with exactly one primary
// address, mirrored in User.Email: never two (both saw "no primary yet"), never none (each
// saw the other's).
func raceVerifications(t *testing.T, stores [2]restauth.Store) {
	ctx := t.Context()
	const users, perUser = 5, 4
	var ids []int64
	us := make([]*restauth.User, users)
	for i := range us {
		us[i] = createUser(t, stores[0], fmt.Sprintf("verifier%d", i))
		for j := range perUser {
			e := addEmail(t, stores[0], us[i].ID, fmt.Sprintf("v%d.%d@example.com", i, j), false, false)
			ids = append(ids, e.ID)
		}
	}
	errs := make([]error, len(ids))
	startTogether(len(ids), func(i int) {
		_, errs[i] = stores[i%2].VerifyEmailAddress(ctx, ids[i], true)
	})
	require.NoError(t, errors.Join(errs...))
	for _, u := range us {
		es, err := stores[1].EmailAddresses(ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, es, perUser)
		for _, e := range es {
			assert.True(t, e.Verified, e.Email)
		}
		p := primaries(es)
		require.Len(t, p, 1, "user %d", u.ID)
		requireUserEmail(t, stores[0], u.ID, p[0])
	}
}
