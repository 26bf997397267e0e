package restauth

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plainStore is a Store without the Transactor capability; its methods are never called.
type plainStore struct{ Store }

// txStore is a Store with it: InTx hands fn the view and reports what fn returned.
type txStore struct {
	Store
	view  Store
	calls int
	got   error
}

func (s *txStore) InTx(ctx context.Context, fn func(context.Context, Store) error) error {
	s.calls++
	s.got = fn(ctx, s.view)
	return s.got
}

func TestServiceInTx(t *testing.T) {
	t.Parallel()
	errFn := errors.New("fn failed")
	view := plainStore{}
	tests := []struct {
		name     string
		store    Store
		wantView Store // what fn must be given
		fnErr    error
	}{
		{"a Transactor runs fn in its transaction", &txStore{view: view}, view, nil},
		{"a Transactor gets fn's error", &txStore{view: view}, view, errFn},
		{"a store without the capability runs fn itself", plainStore{}, nil, nil},
		{"a store without the capability returns fn's error", plainStore{}, nil, errFn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := tc.wantView
			if want == nil {
				want = tc.store
			}
			s := &Service{store: tc.store}
			ran := 0
			err := s.inTx(t.Context(), func(_ context.Context, st Store) error {
				ran++
				assert.Equal(t, want, st)
				return tc.fnErr
			})
			require.ErrorIs(t, err, tc.fnErr)
			if tc.fnErr == nil {
				require.NoError(t, err)
			}
			assert.Equal(t, 1, ran, "fn runs once")
			if ts, ok := tc.store.(*txStore); ok {
				assert.Equal(t, 1, ts.calls)
				assert.Equal(t, tc.fnErr, ts.got)
			}
		})
	}
}
