package restauth

import (
	"net/http"

	"github.com/restauth/restauth/internal/drf"
)

// This file serves the MFA routes (mfa/totp/, mfa/recovery-codes/), which the reference
// does not have: restauth's own extension of the 291 dialect, in its shapes. The
// operations, re-authentication and its limits included, are in mfa.go and recovery.go.

// noStore keeps answers that carry secrets (a TOTP secret, recovery codes, an API token
// key) out of caches.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// mfaProof reads the re-authentication fields of a DELETE or regeneration request: a
// current code or the password, either may be blank.
func (d *api291) mfaProof(w http.ResponseWriter, r *http.Request) (MFAProof, error) {
	v, err := d.fields(w, r,
		charField{Name: "code", AllowBlank: true},
		charField{Name: "password", AllowBlank: true})
	if err != nil {
		return MFAProof{}, err
	}
	return MFAProof{Code: v["code"], Password: v["password"]}, nil
}

// totp serves mfa/totp/: GET reports the enrolment (and starts a pending secret), POST
// activates it with a code, DELETE deactivates it after re-authentication.
func (d *api291) totp(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), caller(r)
	noStore(w)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		st, err := d.svc.TOTPStatus(ctx, u)
		if err != nil {
			return err
		}
		drf.WriteJSON(w, http.StatusOK, struct {
			Active bool   `json:"active"`
			Secret string `json:"secret,omitempty"`
			URL    string `json:"otpauth_url,omitempty"`
		}{st.Active, st.Secret, st.URL})
	case http.MethodPost:
		v, err := d.fields(w, r, charField{Name: "code", Required: true})
		if err != nil {
			return err
		}
		codes, err := d.svc.ActivateTOTP(ctx, u, v["code"])
		if err != nil {
			return err
		}
		drf.WriteJSON(w, http.StatusOK, struct {
			Active        bool     `json:"active"`
			RecoveryCodes []string `json:"recovery_codes"`
		}{true, codes})
	case http.MethodDelete:
		proof, err := d.mfaProof(w, r)
		if err == nil {
			err = d.svc.DeactivateTOTP(ctx, u, proof)
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// recoveryCodesBody answers mfa/recovery-codes/; Codes only after a regeneration, the one
// time they are shown.
type recoveryCodesBody struct {
	Total     int      `json:"total"`
	Remaining int      `json:"remaining"`
	Codes     []string `json:"codes,omitempty"`
}

// recoveryCodes serves mfa/recovery-codes/: GET counts the codes, POST replaces them
// after re-authentication.
func (d *api291) recoveryCodes(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), caller(r)
	noStore(w)
	if r.Method == http.MethodPost {
		proof, err := d.mfaProof(w, r)
		var codes []string
		if err == nil {
			codes, err = d.svc.RegenerateRecoveryCodes(ctx, u, proof)
		}
		if err != nil {
			return err
		}
		drf.WriteJSON(w, http.StatusOK, recoveryCodesBody{Total: len(codes), Remaining: len(codes), Codes: codes})
		return nil
	}
	st, err := d.svc.RecoveryCodesStatus(ctx, u.ID)
	if err != nil {
		return err
	}
	drf.WriteJSON(w, http.StatusOK, recoveryCodesBody{Total: st.Total, Remaining: st.Remaining})
	return nil
}
