package restauth

import (
	"context"
	"time"
)

// The Store methods of meteredStore (store_metrics.go), each timed under its own
// restauth.store.operation: one line of timing and one of forwarding apiece.

func (ms *meteredStore) CreateUser(ctx context.Context, u *User, email *EmailAddress) (err error) {
	defer ms.observe(ctx, opCreateUser, time.Now(), &err)
	return ms.Store.CreateUser(ctx, u, email)
}

func (ms *meteredStore) UserByID(ctx context.Context, id int64) (r *User, err error) {
	defer ms.observe(ctx, opUserByID, time.Now(), &err)
	return ms.Store.UserByID(ctx, id)
}

func (ms *meteredStore) UserByUsername(ctx context.Context, username string) (r *User, err error) {
	defer ms.observe(ctx, opUserByUsername, time.Now(), &err)
	return ms.Store.UserByUsername(ctx, username)
}

func (ms *meteredStore) UsersByEmail(ctx context.Context, email string) (r []*User, err error) {
	defer ms.observe(ctx, opUsersByEmail, time.Now(), &err)
	return ms.Store.UsersByEmail(ctx, email)
}

func (ms *meteredStore) UpdateUser(ctx context.Context, id int64, upd UserUpdate) (r *User, err error) {
	defer ms.observe(ctx, opUpdateUser, time.Now(), &err)
	return ms.Store.UpdateUser(ctx, id, upd)
}

func (ms *meteredStore) DeleteUser(ctx context.Context, id int64) (err error) {
	defer ms.observe(ctx, opDeleteUser, time.Now(), &err)
	return ms.Store.DeleteUser(ctx, id)
}

func (ms *meteredStore) EmailAddresses(ctx context.Context, userID int64) (r []EmailAddress, err error) {
	defer ms.observe(ctx, opEmailAddresses, time.Now(), &err)
	return ms.Store.EmailAddresses(ctx, userID)
}

func (ms *meteredStore) EmailAddressByID(ctx context.Context, id int64) (r *EmailAddress, err error) {
	defer ms.observe(ctx, opEmailAddressByID, time.Now(), &err)
	return ms.Store.EmailAddressByID(ctx, id)
}

func (ms *meteredStore) AddEmailAddress(ctx context.Context, e *EmailAddress) (err error) {
	defer ms.observe(ctx, opAddEmailAddress, time.Now(), &err)
	return ms.Store.AddEmailAddress(ctx, e)
}

func (ms *meteredStore) VerifyEmailAddress(ctx context.Context, id int64, makePrimaryIfNone bool) (r *EmailAddress, err error) {
	defer ms.observe(ctx, opVerifyEmailAddress, time.Now(), &err)
	return ms.Store.VerifyEmailAddress(ctx, id, makePrimaryIfNone)
}

func (ms *meteredStore) SetPrimaryEmailAddress(ctx context.Context, id int64) (r *EmailAddress, err error) {
	defer ms.observe(ctx, opSetPrimaryEmailAddress, time.Now(), &err)
	return ms.Store.SetPrimaryEmailAddress(ctx, id)
}

func (ms *meteredStore) DeleteEmailAddress(ctx context.Context, id int64) (err error) {
	defer ms.observe(ctx, opDeleteEmailAddress, time.Now(), &err)
	return ms.Store.DeleteEmailAddress(ctx, id)
}

func (ms *meteredStore) CreateToken(ctx context.Context, t *APIToken) (err error) {
	defer ms.observe(ctx, opCreateToken, time.Now(), &err)
	return ms.Store.CreateToken(ctx, t)
}

func (ms *meteredStore) TokenByHash(ctx context.Context, hash [32]byte) (r *APIToken, err error) {
	defer ms.observe(ctx, opTokenByHash, time.Now(), &err)
	return ms.Store.TokenByHash(ctx, hash)
}

func (ms *meteredStore) TokenByID(ctx context.Context, id int64) (r *APIToken, err error) {
	defer ms.observe(ctx, opTokenByID, time.Now(), &err)
	return ms.Store.TokenByID(ctx, id)
}

func (ms *meteredStore) Tokens(ctx context.Context, userID int64) (r []APIToken, err error) {
	defer ms.observe(ctx, opTokens, time.Now(), &err)
	return ms.Store.Tokens(ctx, userID)
}

func (ms *meteredStore) RevokeToken(ctx context.Context, id int64) (err error) {
	defer ms.observe(ctx, opRevokeToken, time.Now(), &err)
	return ms.Store.RevokeToken(ctx, id)
}

func (ms *meteredStore) TouchToken(ctx context.Context, id int64, day time.Time) (err error) {
	defer ms.observe(ctx, opTouchToken, time.Now(), &err)
	return ms.Store.TouchToken(ctx, id, day)
}

func (ms *meteredStore) CreateSocialAccount(ctx context.Context, a *SocialAccount) (err error) {
	defer ms.observe(ctx, opCreateSocialAccount, time.Now(), &err)
	return ms.Store.CreateSocialAccount(ctx, a)
}

func (ms *meteredStore) SocialAccountByUID(ctx context.Context, provider, uid string) (r *SocialAccount, err error) {
	defer ms.observe(ctx, opSocialAccountByUID, time.Now(), &err)
	return ms.Store.SocialAccountByUID(ctx, provider, uid)
}

func (ms *meteredStore) SocialAccounts(ctx context.Context, userID int64) (r []SocialAccount, err error) {
	defer ms.observe(ctx, opSocialAccounts, time.Now(), &err)
	return ms.Store.SocialAccounts(ctx, userID)
}

func (ms *meteredStore) UpdateSocialAccountLogin(ctx context.Context, id int64, at time.Time, extra []byte) (err error) {
	defer ms.observe(ctx, opUpdateSocialAccountLogin, time.Now(), &err)
	return ms.Store.UpdateSocialAccountLogin(ctx, id, at, extra)
}

func (ms *meteredStore) DeleteSocialAccount(ctx context.Context, id int64) (err error) {
	defer ms.observe(ctx, opDeleteSocialAccount, time.Now(), &err)
	return ms.Store.DeleteSocialAccount(ctx, id)
}

func (ms *meteredStore) TOTPDevice(ctx context.Context, userID int64) (r *TOTPDevice, err error) {
	defer ms.observe(ctx, opTOTPDevice, time.Now(), &err)
	return ms.Store.TOTPDevice(ctx, userID)
}

func (ms *meteredStore) CreateTOTPDevice(ctx context.Context, d *TOTPDevice) (err error) {
	defer ms.observe(ctx, opCreateTOTPDevice, time.Now(), &err)
	return ms.Store.CreateTOTPDevice(ctx, d)
}

func (ms *meteredStore) UseTOTPStep(ctx context.Context, userID int64, sealedSecret []byte, step int64, confirm bool) (r bool, err error) {
	defer ms.observe(ctx, opUseTOTPStep, time.Now(), &err)
	return ms.Store.UseTOTPStep(ctx, userID, sealedSecret, step, confirm)
}

func (ms *meteredStore) DeleteTOTPDevice(ctx context.Context, userID int64) (err error) {
	defer ms.observe(ctx, opDeleteTOTPDevice, time.Now(), &err)
	return ms.Store.DeleteTOTPDevice(ctx, userID)
}

func (ms *meteredStore) RecoveryCodes(ctx context.Context, userID int64) (r []RecoveryCode, err error) {
	defer ms.observe(ctx, opRecoveryCodes, time.Now(), &err)
	return ms.Store.RecoveryCodes(ctx, userID)
}

func (ms *meteredStore) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][32]byte) (err error) {
	defer ms.observe(ctx, opReplaceRecoveryCodes, time.Now(), &err)
	return ms.Store.ReplaceRecoveryCodes(ctx, userID, hashes)
}

func (ms *meteredStore) UseRecoveryCode(ctx context.Context, userID int64, hash [32]byte, at time.Time) (err error) {
	defer ms.observe(ctx, opUseRecoveryCode, time.Now(), &err)
	return ms.Store.UseRecoveryCode(ctx, userID, hash, at)
}

func (ms *meteredStore) CreateUserSession(ctx context.Context, s *UserSession) (err error) {
	defer ms.observe(ctx, opCreateUserSession, time.Now(), &err)
	return ms.Store.CreateUserSession(ctx, s)
}

func (ms *meteredStore) UserSessions(ctx context.Context, userID int64) (r []UserSession, err error) {
	defer ms.observe(ctx, opUserSessions, time.Now(), &err)
	return ms.Store.UserSessions(ctx, userID)
}

func (ms *meteredStore) DeleteUserSession(ctx context.Context, userID int64, sessionHash string) (err error) {
	defer ms.observe(ctx, opDeleteUserSession, time.Now(), &err)
	return ms.Store.DeleteUserSession(ctx, userID, sessionHash)
}

func (ms *meteredStore) DeleteUserSessions(ctx context.Context, userID int64, except string) (r int, err error) {
	defer ms.observe(ctx, opDeleteUserSessions, time.Now(), &err)
	return ms.Store.DeleteUserSessions(ctx, userID, except)
}

func (ms *meteredStore) CreateRefreshToken(ctx context.Context, t *RefreshToken) (err error) {
	defer ms.observe(ctx, opCreateRefreshToken, time.Now(), &err)
	return ms.Store.CreateRefreshToken(ctx, t)
}

func (ms *meteredStore) ReplaceRefreshToken(ctx context.Context, old [32]byte, next *RefreshToken) (err error) {
	defer ms.observe(ctx, opReplaceRefreshToken, time.Now(), &err)
	return ms.Store.ReplaceRefreshToken(ctx, old, next)
}

func (ms *meteredStore) DeleteRefreshTokens(ctx context.Context, userID int64, family string) (err error) {
	defer ms.observe(ctx, opDeleteRefreshTokens, time.Now(), &err)
	return ms.Store.DeleteRefreshTokens(ctx, userID, family)
}

func (ms *meteredStore) CreateWebAuthnCredential(ctx context.Context, c *WebAuthnCredential) (err error) {
	defer ms.observe(ctx, opCreateWebAuthnCredential, time.Now(), &err)
	return ms.Store.CreateWebAuthnCredential(ctx, c)
}

func (ms *meteredStore) WebAuthnCredentials(ctx context.Context, userID int64) (r []WebAuthnCredential, err error) {
	defer ms.observe(ctx, opWebAuthnCredentials, time.Now(), &err)
	return ms.Store.WebAuthnCredentials(ctx, userID)
}

func (ms *meteredStore) WebAuthnCredentialByCredentialID(ctx context.Context, credentialID []byte) (r *WebAuthnCredential, err error) {
	defer ms.observe(ctx, opWebAuthnCredentialByCredentialID, time.Now(), &err)
	return ms.Store.WebAuthnCredentialByCredentialID(ctx, credentialID)
}

func (ms *meteredStore) UseWebAuthnCredential(ctx context.Context, id int64, signCount uint32, flags uint8, at time.Time) (r bool, err error) {
	defer ms.observe(ctx, opUseWebAuthnCredential, time.Now(), &err)
	return ms.Store.UseWebAuthnCredential(ctx, id, signCount, flags, at)
}

func (ms *meteredStore) RenameWebAuthnCredential(ctx context.Context, id int64, name string) (err error) {
	defer ms.observe(ctx, opRenameWebAuthnCredential, time.Now(), &err)
	return ms.Store.RenameWebAuthnCredential(ctx, id, name)
}

func (ms *meteredStore) DeleteWebAuthnCredential(ctx context.Context, id int64) (err error) {
	defer ms.observe(ctx, opDeleteWebAuthnCredential, time.Now(), &err)
	return ms.Store.DeleteWebAuthnCredential(ctx, id)
}

func (ms *meteredStore) EnqueueMail(ctx context.Context, m *OutboxMail) (err error) {
	defer ms.observe(ctx, opEnqueueMail, time.Now(), &err)
	return ms.Store.EnqueueMail(ctx, m)
}

func (ms *meteredStore) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) (r []OutboxMail, err error) {
	defer ms.observe(ctx, opClaimMail, time.Now(), &err)
	return ms.Store.ClaimMail(ctx, now, lease, limit)
}

func (ms *meteredStore) DeleteMail(ctx context.Context, id int64, attempt int) (err error) {
	defer ms.observe(ctx, opDeleteMail, time.Now(), &err)
	return ms.Store.DeleteMail(ctx, id, attempt)
}

func (ms *meteredStore) RetryMail(ctx context.Context, id int64, attempt int, due time.Time) (err error) {
	defer ms.observe(ctx, opRetryMail, time.Now(), &err)
	return ms.Store.RetryMail(ctx, id, attempt, due)
}
