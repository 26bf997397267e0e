package restauth

import "context"

// PasswordConfig configures password hashing and validation. (Stub: the password helper replaces this file.)
type PasswordConfig struct{}

type passwordHasher struct{}

func newPasswordHasher(cfg PasswordConfig) (*passwordHasher, error) { return &passwordHasher{}, nil }

func (h *passwordHasher) Hash(ctx context.Context, password string) (string, error) {
	return "plain$" + password, nil
}

func (h *passwordHasher) Check(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	return encoded == "plain$"+password, false, nil
}

func (h *passwordHasher) DummyCheck(ctx context.Context, password string) {}
