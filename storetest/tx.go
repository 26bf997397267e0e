package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// errRollback is what the transactions below fail with to be rolled back.
var errRollback = errors.New("storetest: roll back")

// transactor returns s as a restauth.Transactor, skipping the test for a store without
// the capability.
func transactor(t *testing.T, s restauth.Store) restauth.Transactor {
	t.Helper()
	tr, ok := s.(restauth.Transactor)
	if !ok {
		t.Skip("the store does not implement restauth.Transactor")
	}
	return tr
}

// snapshot is everything the store holds for one user, to tell that a rolled-back
// transaction left it as it was.
type snapshot struct {
	user     restauth.User
	emails   []restauth.EmailAddress
	tokens   []restauth.APIToken
	social   []restauth.SocialAccount
	device   *restauth.TOTPDevice
	recovery []restauth.RecoveryCode
}

func takeSnapshot(t *testing.T, s restauth.Store, userID int64) snapshot {
	t.Helper()
	ctx := t.Context()
	var sn snapshot
	u, err := s.UserByID(ctx, userID)
	require.NoError(t, err)
	sn.user = normUser(*u)
	sn.emails, err = s.EmailAddresses(ctx, userID)
	require.NoError(t, err)
	tks, err := s.Tokens(ctx, userID)
	require.NoError(t, err)
	for _, tk := range tks {
		sn.tokens = append(sn.tokens, normToken(tk))
	}
	as, err := s.SocialAccounts(ctx, userID)
	require.NoError(t, err)
	for _, a := range as {
		sn.social = append(sn.social, normSocial(a))
	}
	if d, err := s.TOTPDevice(ctx, userID); err == nil {
		d.Created = normTime(d.Created)
		sn.device = d
	} else {
		requireNotFound(t, err)
	}
	cs, err := s.RecoveryCodes(ctx, userID)
	require.NoError(t, err)
	for _, c := range cs {
		c.Used = normTime(c.Used)
		sn.recovery = append(sn.recovery, c)
	}
	return sn
}

// fullUser creates a user with a record of every kind: a verified primary address and
// another one, a token, a social account, a confirmed TOTP device and two recovery codes.
func fullUser(t *testing.T, s restauth.Store, name string) *restauth.User {
	t.Helper()
	ctx := t.Context()
	u := createUser(t, s, name)
	addEmail(t, s, u.ID, name+"@example.com", true, true)
	addEmail(t, s, u.ID, name+".other@example.com", false, false)
	createToken(t, s, u.ID, "inv-"+name+"-token-key")
	createSocial(t, s, u.ID, "github", name+"-uid")
	d := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret(name), Confirmed: true, Created: base, LastStep: 7}
	require.NoError(t, s.CreateTOTPDevice(ctx, d))
	require.NoError(t, s.ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{hashOf(name + " code 1"), hashOf(name + " code 2")}))
	return u
}

// txTests pin down the optional restauth.Transactor capability; a store without it skips
// them.
var txTests = []test{
	{"InTx commits what fn did, and fn reads its own writes", func(t *testing.T, s restauth.Store) {
		tr := transactor(t, s)
		ctx := t.Context()
		a := createUser(t, s, "a")
		var b *restauth.User
		var tk *restauth.APIToken
		err := tr.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
			b = sampleUser("b")
			if err := tx.CreateUser(ctx, b, &restauth.EmailAddress{Email: "b@example.com", Verified: true, Primary: true}); err != nil {
				return err
			}
			first := "In a transaction"
			if _, err := tx.UpdateUser(ctx, a.ID, restauth.UserUpdate{FirstName: &first}); err != nil {
				return err
			}
			tk = sampleToken(a.ID, "inv-tx-token-key")
			if err := tx.CreateToken(ctx, tk); err != nil {
				return err
			}
			got, err := tx.UserByUsername(ctx, "B")
			if err != nil {
				return err
			}
			assert.Equal(t, b.ID, got.ID, "the transaction reads its own writes")
			gotTk, err := tx.TokenByHash(ctx, tk.KeyHash)
			if err != nil {
				return err
			}
			assert.Equal(t, tk.ID, gotTk.ID)
			return nil
		})
		require.NoError(t, err)

		got, err := s.UserByUsername(ctx, "b")
		require.NoError(t, err)
		requireUserEqual(t, b, got)
		assert.Equal(t, "b@example.com", got.Email)
		users, err := s.UsersByEmail(ctx, "B@example.com")
		require.NoError(t, err)
		assert.Equal(t, []int64{b.ID}, userIDs(users))
		gotA, err := s.UserByID(ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, "In a transaction", gotA.FirstName)
		gotTk, err := s.TokenByHash(ctx, tk.KeyHash)
		require.NoError(t, err)
		requireTokenEqual(t, tk, gotTk)
	}},
	{"InTx rolls back everything when fn fails, and returns its error", func(t *testing.T, s restauth.Store) {
		tr := transactor(t, s)
		ctx := t.Context()
		a := fullUser(t, s, "a")
		c := fullUser(t, s, "c")
		before, beforeC := takeSnapshot(t, s, a.ID), takeSnapshot(t, s, c.ID)
		tks, err := s.Tokens(ctx, a.ID)
		require.NoError(t, err)
		socials, err := s.SocialAccounts(ctx, a.ID)
		require.NoError(t, err)

		err = tr.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
			steps := []func() error{
				func() error {
					return tx.CreateUser(ctx, sampleUser("b"), &restauth.EmailAddress{Email: "b@example.com", Verified: true, Primary: true})
				},
				func() error {
					name := "renamed"
					_, err := tx.UpdateUser(ctx, a.ID, restauth.UserUpdate{Username: &name})
					return err
				},
				func() error {
					return tx.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: a.ID, Email: "new@example.com", Verified: true, Primary: true})
				},
				func() error {
					_, err := tx.VerifyEmailAddress(ctx, before.emails[1].ID, true)
					return err
				},
				func() error { return tx.DeleteEmailAddress(ctx, before.emails[0].ID) },
				func() error { return tx.RevokeToken(ctx, tks[0].ID) },
				func() error { return tx.CreateToken(ctx, sampleToken(a.ID, "inv-rolled-back-key")) },
				func() error { return tx.DeleteSocialAccount(ctx, socials[0].ID) },
				func() error { return tx.CreateSocialAccount(ctx, sampleSocial(a.ID, "google", "rolled-back")) },
				func() error { return tx.UseRecoveryCode(ctx, a.ID, hashOf("a code 1"), base) },
				func() error { return tx.DeleteTOTPDevice(ctx, a.ID) },
				func() error { return tx.ReplaceRecoveryCodes(ctx, a.ID, [][32]byte{hashOf("rolled back")}) },
				func() error { return tx.DeleteUser(ctx, c.ID) },
				// The username c held is free inside the transaction.
				func() error { return tx.CreateUser(ctx, sampleUser("c"), nil) },
			}
			for i, step := range steps {
				if err := step(); err != nil {
					t.Errorf("step %d: %v", i, err)
				}
			}
			return errRollback
		})
		require.ErrorIs(t, err, errRollback, "InTx returns fn's error")

		assert.Equal(t, before, takeSnapshot(t, s, a.ID), "the user as before the transaction")
		assert.Equal(t, beforeC, takeSnapshot(t, s, c.ID), "the deleted user back as it was")
		_, err = s.UserByUsername(ctx, "b")
		requireNotFound(t, err)
		_, err = s.UserByUsername(ctx, "renamed")
		requireNotFound(t, err)
		got, err := s.UserByUsername(ctx, "A")
		require.NoError(t, err)
		assert.Equal(t, a.ID, got.ID)
		users, err := s.UsersByEmail(ctx, "new@example.com")
		require.NoError(t, err)
		assert.Empty(t, users)
		users, err = s.UsersByEmail(ctx, "a@example.com")
		require.NoError(t, err)
		assert.Equal(t, []int64{a.ID}, userIDs(users))
		_, err = s.TokenByHash(ctx, hashOf("inv-rolled-back-key"))
		requireNotFound(t, err)
		_, err = s.SocialAccountByUID(ctx, "google", "rolled-back")
		requireNotFound(t, err)
		_, err = s.SocialAccountByUID(ctx, "github", "a-uid")
		require.NoError(t, err)

		// The uniqueness rules hold as before: what the transaction freed is taken again,
		// what it took is free.
		requireConflict(t, s.CreateUser(ctx, sampleUser("C"), nil), "username")
		requireConflict(t, s.CreateToken(ctx, sampleToken(c.ID, "inv-a-token-key")), "token")
		require.NoError(t, s.CreateUser(ctx, sampleUser("b"), &restauth.EmailAddress{Email: "b@example.com", Verified: true}))
		require.NoError(t, s.CreateToken(ctx, sampleToken(a.ID, "inv-rolled-back-key")))
		other := createUser(t, s, "other")
		e := addEmail(t, s, other.ID, "A@example.com", false, false)
		_, err = s.VerifyEmailAddress(ctx, e.ID, false)
		requireConflict(t, err, "email")
	}},
	{"InTx rolls back when fn panics, and the panic goes on", func(t *testing.T, s restauth.Store) {
		tr := transactor(t, s)
		ctx := t.Context()
		a := createUser(t, s, "a")
		before := takeSnapshot(t, s, a.ID)
		require.PanicsWithValue(t, "storetest: boom", func() {
			_ = tr.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
				require.NoError(t, tx.CreateUser(ctx, sampleUser("b"), nil))
				addEmail(t, tx, a.ID, "a@example.com", true, true)
				panic("storetest: boom")
			})
		})
		_, err := s.UserByUsername(ctx, "b")
		requireNotFound(t, err)
		assert.Equal(t, before, takeSnapshot(t, s, a.ID))
		// The store works on: the transaction let go of what it held.
		createUser(t, s, "b")
		require.NoError(t, tr.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
			return tx.CreateUser(ctx, sampleUser("c"), nil)
		}))
		_, err = s.UserByUsername(ctx, "c")
		require.NoError(t, err)
	}},
	{"a method failing inside InTx changes nothing and the transaction goes on", func(t *testing.T, s restauth.Store) {
		tr := transactor(t, s)
		ctx := t.Context()
		a := createUser(t, s, "a")
		addEmail(t, s, a.ID, "a@example.com", true, true)
		err := tr.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
			requireConflict(t, tx.CreateUser(ctx, sampleUser("A"), nil), "username")
			// The user would be stored, then its address refused: neither stays.
			requireConflict(t, tx.CreateUser(ctx, sampleUser("b"), &restauth.EmailAddress{Email: "A@example.com", Verified: true, Primary: true}), "email")
			requireNotFound(t, tx.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: a.ID + 1000, Email: "x@example.com"}))
			requireConflict(t, tx.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: a.ID, Email: "A@EXAMPLE.com", Primary: true}), "user_email")
			requireNotFound(t, tx.CreateToken(ctx, sampleToken(a.ID+1000, "inv-orphan-key")))
			return tx.CreateUser(ctx, sampleUser("c"), nil)
		})
		require.NoError(t, err)
		_, err = s.UserByUsername(ctx, "b")
		requireNotFound(t, err)
		_, err = s.UserByUsername(ctx, "c")
		require.NoError(t, err)
		es, err := s.EmailAddresses(ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"a@example.com"}, primaries(es), "the refused primary address cleared no other")
		requireUserEmail(t, s, a.ID, "a@example.com")
	}},
	{"a nested InTx joins the transaction: its failure undoes only its part", func(t *testing.T, s restauth.Store) {
		tr := transactor(t, s)
		ctx := t.Context()
		a := createUser(t, s, "a")
		setFirst := func(ctx context.Context, tx restauth.Store, name string) {
			_, err := tx.UpdateUser(ctx, a.ID, restauth.UserUpdate{FirstName: &name})
			require.NoError(t, err)
		}
		err := tr.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
			setFirst(ctx, tx, "outer")
			require.NoError(t, tx.CreateUser(ctx, sampleUser("outer"), nil))
			nested, ok := tx.(restauth.Transactor)
			require.True(t, ok, "the transaction's store is a Transactor too")
			err := nested.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
				setFirst(ctx, tx, "failed")
				require.NoError(t, tx.CreateUser(ctx, sampleUser("failed"), nil))
				return errRollback
			})
			require.ErrorIs(t, err, errRollback)
			got, err := tx.UserByID(ctx, a.ID)
			require.NoError(t, err)
			assert.Equal(t, "outer", got.FirstName, "the nested step's change is undone")
			_, err = tx.UserByUsername(ctx, "failed")
			requireNotFound(t, err)
			_, err = tx.UserByUsername(ctx, "outer")
			require.NoError(t, err, "the outer step's change stays")
			return nested.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
				setFirst(ctx, tx, "nested")
				return tx.CreateUser(ctx, sampleUser("nested"), nil)
			})
		})
		require.NoError(t, err)
		got, err := s.UserByID(ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, "nested", got.FirstName)
		for _, name := range []string{"outer", "nested"} {
			_, err = s.UserByUsername(ctx, name)
			require.NoError(t, err, name)
		}
		_, err = s.UserByUsername(ctx, "failed")
		requireNotFound(t, err)

		// A nested step that succeeded goes with the outer transaction when that fails.
		err = tr.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
			require.NoError(t, tx.(restauth.Transactor).InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
				setFirst(ctx, tx, "lost")
				return tx.CreateUser(ctx, sampleUser("lost"), nil)
			}))
			return errRollback
		})
		require.ErrorIs(t, err, errRollback)
		got, err = s.UserByID(ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, "nested", got.FirstName)
		_, err = s.UserByUsername(ctx, "lost")
		requireNotFound(t, err)
	}},
	{"concurrent transactions each commit whole", func(t *testing.T, s restauth.Store) {
		tr := transactor(t, s)
		ctx := t.Context()
		const n = 10
		errs := make([]error, n)
		startTogether(n, func(i int) {
			errs[i] = tr.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
				u := sampleUser(caseVariant("txuser", i))
				if err := tx.CreateUser(ctx, u, &restauth.EmailAddress{Email: fmt.Sprintf("tx%d@example.com", i), Verified: true, Primary: true}); err != nil {
					return err
				}
				if i%2 == 1 {
					return errRollback
				}
				return tx.CreateToken(ctx, sampleToken(u.ID, "inv-"+u.Username+"-key"))
			})
		})
		committed := 0
		for i, err := range errs {
			if err == nil {
				committed++
				u, err := s.UserByUsername(ctx, caseVariant("txuser", i))
				require.NoError(t, err)
				tks, err := s.Tokens(ctx, u.ID)
				require.NoError(t, err)
				assert.Len(t, tks, 1)
				continue
			}
			if !errors.Is(err, errRollback) {
				requireConflict(t, err, "username") // another spelling of the name won
			}
		}
		assert.Equal(t, 1, committed, "one spelling of the username is committed, with its token")
	}},
}
