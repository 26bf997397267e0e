package restauth

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric/noop"
)

// TestMeteredStoreCoversStore: meteredStore embeds the Store so that a method added to
// the interface still compiles; this test says which method is then left unmetered.
func TestMeteredStoreCoversStore(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "store_metrics_calls.go", nil, 0)
	require.NoError(t, err)
	declared := map[string]bool{}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil {
			declared[fn.Name.Name] = true
		}
	}
	named := map[string]bool{}
	for _, n := range storeOpNames {
		named[n] = true
	}
	store := reflect.TypeFor[Store]()
	for i := range store.NumMethod() {
		name := store.Method(i).Name
		assert.True(t, declared[name], "Store.%s has no timed method in store_metrics_calls.go", name)
		assert.True(t, named[name], "Store.%s has no storeOp name", name)
	}
	assert.Len(t, declared, store.NumMethod(), "store_metrics_calls.go times Store methods only")
}

// capStore is a Store with neither optional capability (its methods are never called).
type capStore struct{ Store }

type capTxStore struct{ capStore }

func (capTxStore) InTx(ctx context.Context, fn func(context.Context, Store) error) error {
	return fn(ctx, capStore{})
}

type capJoinedStore struct{ capStore }

func (capJoinedStore) TokenAndUserByHash(context.Context, [32]byte) (*APIToken, *User, error) {
	return &APIToken{ID: 7}, &User{ID: 3}, nil
}

type capBothStore struct{ capTxStore }

func (capBothStore) TokenAndUserByHash(context.Context, [32]byte) (*APIToken, *User, error) {
	return nil, nil, nil
}

// TestMeterStoreKeepsCapabilities: operations choose their paths by type assertion, so
// the wrapper is a Transactor or a TokenUserStore exactly when the store is.
func TestMeterStoreKeepsCapabilities(t *testing.T) {
	t.Parallel()
	duration, err := noop.NewMeterProvider().Meter("").Float64Histogram("d")
	require.NoError(t, err)
	for _, tc := range []struct {
		name       string
		store      Store
		tx, joined bool
	}{
		{"neither", capStore{}, false, false},
		{"Transactor", capTxStore{}, true, false},
		{"TokenUserStore", capJoinedStore{}, false, true},
		{"both", capBothStore{}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := meterStore(tc.store, duration)
			_, tx := m.(Transactor)
			_, joined := m.(TokenUserStore)
			assert.Equal(t, tc.tx, tx, "Transactor")
			assert.Equal(t, tc.joined, joined, "TokenUserStore")
		})
	}

	m := meterStore(capJoinedStore{}, duration).(TokenUserStore)
	tok, u, err := m.TokenAndUserByHash(context.Background(), [32]byte{})
	require.NoError(t, err)
	assert.Equal(t, int64(7), tok.ID, "forwarded to the store")
	assert.Equal(t, int64(3), u.ID)

	var inner Store
	require.NoError(t, meterStore(capTxStore{}, duration).(Transactor).InTx(context.Background(), func(_ context.Context, tx Store) error {
		inner = tx
		return nil
	}))
	assert.IsType(t, &meteredStore{}, inner, "the transaction's view is timed too")
}
