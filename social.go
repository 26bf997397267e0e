package restauth

import (
	"context"
	"fmt"
	"strings"
)

// The social accounts a user manages outside a flow: the providers a login page offers,
// the accounts linked, and disconnecting one (see social_flow.go for the flows and
// social_login.go for what a flow does to accounts).

// SocialProviderInfo describes a provider for a login page.
type SocialProviderInfo struct {
	// ID names the provider in routes and in SocialAccount.Provider.
	ID string
	// Name and DisplayName are SocialProvider's, defaults applied.
	Name        string
	DisplayName string
	// Configured is false for a provider without ClientID: listed, but no flow uses it.
	Configured bool
	// ClientID is the provider's client id, public: a native app obtains the tokens of
	// LoginWithProviderToken for it (allauth headless's config reports it).
	ClientID string
	// Issuer is an OpenID Connect provider's issuer, "" for OAuth2.
	Issuer string
	// TokenLogin tells that LoginWithProviderToken takes the provider's tokens: an OpenID
	// Connect provider (its ID token), or an OAuth2 one with SocialProvider.AccessTokenLogin.
	TokenLogin bool
}

// SocialSettings are the social-login settings a dialect reports or follows.
type SocialSettings struct {
	// Enabled and Registration are Config.Social's.
	Enabled      bool
	Registration bool
	// ErrorRedirect is Config.Social.ErrorRedirect, absolute, with "{reason}" to replace.
	ErrorRedirect string
	// SecureCookies is set when SiteURL is https: the flow cookies are Secure.
	SecureCookies bool
}

// SocialSettings returns the social-login settings.
func (s *Service) SocialSettings() SocialSettings {
	return SocialSettings{
		Enabled:       s.cfg.Social.Enabled,
		Registration:  s.cfg.Social.Registration,
		ErrorRedirect: s.cfg.Social.ErrorRedirect,
		SecureCookies: strings.HasPrefix(s.cfg.SiteURL, "https:"),
	}
}

// SocialProviders lists the providers of Config.Social.Providers, in their order.
func (s *Service) SocialProviders() []SocialProviderInfo {
	out := make([]SocialProviderInfo, 0, len(s.social.providers))
	for _, p := range s.social.providers {
		out = append(out, SocialProviderInfo{ID: p.cfg.ID, Name: p.cfg.Name, DisplayName: p.cfg.DisplayName, Configured: p.configured(),
			ClientID: p.cfg.ClientID, Issuer: p.cfg.Issuer, TokenLogin: p.rt.IsOIDC() || p.cfg.AccessTokenLogin})
	}
	return out
}

// SocialAccounts returns the user's social accounts, ordered by id.
func (s *Service) SocialAccounts(ctx context.Context, userID int64) ([]SocialAccount, error) {
	return s.store.SocialAccounts(ctx, userID)
}

const msgLastLoginMethod = "You cannot disconnect your last social account while your account has no password. Set a password first, or connect another social account."

// DisconnectSocialAccount deletes one of the user's social accounts. Another user's or an
// unknown id matches ErrNotFound. Unlike the reference, it refuses (a *ValidationError
// matching ErrLastLoginMethod) to remove the last social account of a user without a
// usable password, who could never log in again.
//
// It emits AuditSocialUnlinked.
func (s *Service) DisconnectSocialAccount(ctx context.Context, u *User, id int64) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "DisconnectSocialAccount")
	defer opSpan.end(&opErr)
	userID := u.ID
	lock := &s.social.disconnectLocks[uint64(userID)%uint64(len(s.social.disconnectLocks))]
	lock.Lock()
	defer lock.Unlock()
	accounts, err := s.store.SocialAccounts(ctx, userID)
	if err != nil {
		return err
	}
	found := false
	for _, a := range accounts {
		if a.ID == id {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("social account %d of user %d: %w", id, userID, ErrNotFound)
	}
	if len(accounts) == 1 {
		// Read the user afresh: the caller's copy may predate a password change.
		fresh, err := s.store.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		if !fresh.HasUsablePassword() {
			return causedFieldError(ErrLastLoginMethod, nonFieldErrors, msgLastLoginMethod)
		}
	}
	if err := s.store.DeleteSocialAccount(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditSocialUnlinked, Detail: idDetail("social_account_id", id)})
	return nil
}
