package restauth

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// This file is the Store decorator behind restauth.store.operation.duration (its
// forwarding methods are in store_metrics_calls.go): New wraps
// Config.Store in it, so every store call of every operation, the dialects' and the
// outbox worker's included, is timed in one place. It keeps the optional capabilities
// (Transactor, TokenUserStore) exactly as the wrapped store has them, since operations
// choose their paths by type assertion. It embeds the Store, so that a method added to
// the interface still compiles unmetered until it is listed here
// (TestMeteredStoreCoversStore says which).

// storeOp names a Store method in the metric's restauth.store.operation attribute.
type storeOp int

// The metered Store methods, one per method of the Store interface and its optional
// capabilities.
const (
	opCreateUser storeOp = iota
	opUserByID
	opUserByUsername
	opUsersByEmail
	opUpdateUser
	opDeleteUser
	opEmailAddresses
	opEmailAddressByID
	opAddEmailAddress
	opVerifyEmailAddress
	opSetPrimaryEmailAddress
	opDeleteEmailAddress
	opCreateToken
	opTokenByHash
	opTokenByID
	opTokens
	opRevokeToken
	opTouchToken
	opCreateSocialAccount
	opSocialAccountByUID
	opSocialAccounts
	opUpdateSocialAccountLogin
	opDeleteSocialAccount
	opTOTPDevice
	opCreateTOTPDevice
	opUseTOTPStep
	opDeleteTOTPDevice
	opRecoveryCodes
	opReplaceRecoveryCodes
	opUseRecoveryCode
	opCreateUserSession
	opUserSessions
	opDeleteUserSession
	opDeleteUserSessions
	opCreateRefreshToken
	opReplaceRefreshToken
	opDeleteRefreshTokens
	opCreateWebAuthnCredential
	opWebAuthnCredentials
	opWebAuthnCredentialByCredentialID
	opUseWebAuthnCredential
	opRenameWebAuthnCredential
	opDeleteWebAuthnCredential
	opEnqueueMail
	opClaimMail
	opDeleteMail
	opRetryMail
	opTokenAndUserByHash
	opInTx
	numStoreOps
)

var storeOpNames = [numStoreOps]string{
	opCreateUser:                       "CreateUser",
	opUserByID:                         "UserByID",
	opUserByUsername:                   "UserByUsername",
	opUsersByEmail:                     "UsersByEmail",
	opUpdateUser:                       "UpdateUser",
	opDeleteUser:                       "DeleteUser",
	opEmailAddresses:                   "EmailAddresses",
	opEmailAddressByID:                 "EmailAddressByID",
	opAddEmailAddress:                  "AddEmailAddress",
	opVerifyEmailAddress:               "VerifyEmailAddress",
	opSetPrimaryEmailAddress:           "SetPrimaryEmailAddress",
	opDeleteEmailAddress:               "DeleteEmailAddress",
	opCreateToken:                      "CreateToken",
	opTokenByHash:                      "TokenByHash",
	opTokenByID:                        "TokenByID",
	opTokens:                           "Tokens",
	opRevokeToken:                      "RevokeToken",
	opTouchToken:                       "TouchToken",
	opCreateSocialAccount:              "CreateSocialAccount",
	opSocialAccountByUID:               "SocialAccountByUID",
	opSocialAccounts:                   "SocialAccounts",
	opUpdateSocialAccountLogin:         "UpdateSocialAccountLogin",
	opDeleteSocialAccount:              "DeleteSocialAccount",
	opTOTPDevice:                       "TOTPDevice",
	opCreateTOTPDevice:                 "CreateTOTPDevice",
	opUseTOTPStep:                      "UseTOTPStep",
	opDeleteTOTPDevice:                 "DeleteTOTPDevice",
	opRecoveryCodes:                    "RecoveryCodes",
	opReplaceRecoveryCodes:             "ReplaceRecoveryCodes",
	opUseRecoveryCode:                  "UseRecoveryCode",
	opCreateUserSession:                "CreateUserSession",
	opUserSessions:                     "UserSessions",
	opDeleteUserSession:                "DeleteUserSession",
	opDeleteUserSessions:               "DeleteUserSessions",
	opCreateRefreshToken:               "CreateRefreshToken",
	opReplaceRefreshToken:              "ReplaceRefreshToken",
	opDeleteRefreshTokens:              "DeleteRefreshTokens",
	opCreateWebAuthnCredential:         "CreateWebAuthnCredential",
	opWebAuthnCredentials:              "WebAuthnCredentials",
	opWebAuthnCredentialByCredentialID: "WebAuthnCredentialByCredentialID",
	opUseWebAuthnCredential:            "UseWebAuthnCredential",
	opRenameWebAuthnCredential:         "RenameWebAuthnCredential",
	opDeleteWebAuthnCredential:         "DeleteWebAuthnCredential",
	opEnqueueMail:                      "EnqueueMail",
	opClaimMail:                        "ClaimMail",
	opDeleteMail:                       "DeleteMail",
	opRetryMail:                        "RetryMail",
	opTokenAndUserByHash:               "TokenAndUserByHash",
	opInTx:                             "InTx",
}

// storeOpOptions are each operation's precomputed attribute sets, as record options: for
// a call that succeeded and one that found nothing (ErrNotFound, an ordinary answer:
// "not_found"). Precomputed, they cost the token hot path no allocation; other failures
// build theirs when they happen.
var storeOpOptions = func() (opts [numStoreOps][2][]metric.RecordOption) {
	for op, name := range storeOpNames {
		opts[op][0] = []metric.RecordOption{metric.WithAttributes(attrStoreOp.String(name))}
		opts[op][1] = []metric.RecordOption{metric.WithAttributes(attrStoreOp.String(name), attrErrorType.String("not_found"))}
	}
	return opts
}()

// meteredStore times every call of the Store it embeds.
type meteredStore struct {
	Store
	duration metric.Float64Histogram
}

// meterStore wraps st to record its calls' durations, keeping st's optional
// capabilities.
func meterStore(st Store, duration metric.Float64Histogram) Store {
	m := &meteredStore{Store: st, duration: duration}
	_, tx := st.(Transactor)
	_, joined := st.(TokenUserStore)
	switch {
	case tx && joined:
		return meteredTxJoinedStore{m}
	case tx:
		return meteredTxStore{m}
	case joined:
		return meteredJoinedStore{m}
	}
	return m
}

// observe records one call of op that began at start and ended with *errp.
func (ms *meteredStore) observe(ctx context.Context, op storeOp, start time.Time, errp *error) {
	d := time.Since(start).Seconds()
	switch err := *errp; {
	case err == nil:
		ms.duration.Record(ctx, d, storeOpOptions[op][0]...)
	case errors.Is(err, ErrNotFound):
		ms.duration.Record(ctx, d, storeOpOptions[op][1]...)
	default:
		ms.duration.Record(ctx, d, metric.WithAttributes(attrStoreOp.String(storeOpNames[op]), attrErrorType.String(errorType(err))))
	}
}

// inTx is Transactor.InTx, timed as a whole; the calls fn makes on tx are timed each,
// since tx is wrapped too.
func (ms *meteredStore) inTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) (err error) {
	defer ms.observe(ctx, opInTx, time.Now(), &err)
	return ms.Store.(Transactor).InTx(ctx, func(ctx context.Context, tx Store) error {
		return fn(ctx, meterStore(tx, ms.duration))
	})
}

func (ms *meteredStore) tokenAndUserByHash(ctx context.Context, hash [32]byte) (t *APIToken, u *User, err error) {
	defer ms.observe(ctx, opTokenAndUserByHash, time.Now(), &err)
	return ms.Store.(TokenUserStore).TokenAndUserByHash(ctx, hash)
}

// meteredTxStore is a meteredStore of a Transactor.
type meteredTxStore struct{ *meteredStore }

// InTx implements Transactor.
func (m meteredTxStore) InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error {
	return m.inTx(ctx, fn)
}

// meteredJoinedStore is a meteredStore of a TokenUserStore.
type meteredJoinedStore struct{ *meteredStore }

// TokenAndUserByHash implements TokenUserStore.
func (m meteredJoinedStore) TokenAndUserByHash(ctx context.Context, hash [32]byte) (*APIToken, *User, error) {
	return m.tokenAndUserByHash(ctx, hash)
}

// meteredTxJoinedStore is a meteredStore of a store with both capabilities.
type meteredTxJoinedStore struct{ *meteredStore }

// InTx implements Transactor.
func (m meteredTxJoinedStore) InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error {
	return m.inTx(ctx, fn)
}

// TokenAndUserByHash implements TokenUserStore.
func (m meteredTxJoinedStore) TokenAndUserByHash(ctx context.Context, hash [32]byte) (*APIToken, *User, error) {
	return m.tokenAndUserByHash(ctx, hash)
}
