package restauth

import "net/http"

// providersJSON is InvenTree's SocialProviderListView answer: one object, never paginated.
type providersJSON struct {
	SSOEnabled               bool           `json:"sso_enabled"`
	SSORegistration          bool           `json:"sso_registration"`
	MFARequired              bool           `json:"mfa_required"`
	MFAEnabled               bool           `json:"mfa_enabled"`
	Providers                []providerJSON `json:"providers"`
	RegistrationEnabled      bool           `json:"registration_enabled"`
	PasswordForgottenEnabled bool           `json:"password_forgotten_enabled"`
}

// providerJSON describes one social login provider.
type providerJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Configured  bool   `json:"configured"`
	Login       string `json:"login"`
	Connect     string `json:"connect"`
	DisplayName string `json:"display_name"`
}

func (s *Service) handleProviders(w http.ResponseWriter, r *http.Request, c *call) {
	writeJSON(w, http.StatusOK, providersJSON{
		SSOEnabled:               s.cfg.SSOEnabled,
		SSORegistration:          s.cfg.SSORegistration,
		MFARequired:              s.cfg.MFAEnabled && s.cfg.MFARequired,
		MFAEnabled:               s.cfg.MFAEnabled,
		Providers:                []providerJSON{},
		RegistrationEnabled:      !s.cfg.DisableRegistration,
		PasswordForgottenEnabled: !s.cfg.DisablePasswordReset,
	})
}
