package restauth

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/restauth/restauth/internal/djsign"
	"github.com/restauth/restauth/internal/otp"
)

// Recovery codes: ten single-use codes of ten base32 characters (50 bits each), shown as
// "abcde-fghij" (internal/otp makes them). Only a keyed HMAC of each is stored, so a copy
// of the database does not give them away, nor lets them be guessed offline without
// Config.Secret.
const (
	recoveryCodeCount   = 10
	recoveryCodePurpose = "restauth.mfa.recovery-code"
)

// RecoveryCodesStatus counts a user's recovery codes. LastUsed is when one was last used
// (zero when none was).
type RecoveryCodesStatus struct {
	Total     int
	Remaining int
	LastUsed  time.Time
}

// recoveryCodeHash is bound to the user, so equal codes of two users hash differently.
func (s *Service) recoveryCodeHash(userID int64, code string) [32]byte {
	return [32]byte(djsign.SaltedHMAC(recoveryCodePurpose, s.cfg.Secret, strconv.FormatInt(userID, 10)+":"+otp.NormalizeRecoveryCode(code)))
}

// newRecoveryCodes replaces the user's recovery codes with fresh ones and returns them.
func (s *Service) newRecoveryCodes(ctx context.Context, userID int64) ([]string, error) {
	codes := make([]string, recoveryCodeCount)
	hashes := make([][32]byte, recoveryCodeCount)
	for i := range codes {
		codes[i] = otp.NewRecoveryCode()
		hashes[i] = s.recoveryCodeHash(userID, codes[i])
	}
	if err := s.store.ReplaceRecoveryCodes(ctx, userID, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// useRecoveryCode consumes one of the user's unused codes.
func (s *Service) useRecoveryCode(ctx context.Context, userID int64, code string) (bool, error) {
	normalized := otp.NormalizeRecoveryCode(code)
	if len(normalized) != otp.RecoveryCodeChars {
		return false, nil
	}
	err := s.store.UseRecoveryCode(ctx, userID, s.recoveryCodeHash(userID, normalized), s.now().UTC())
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// RecoveryCodesStatus counts the user's recovery codes and the unused ones.
func (s *Service) RecoveryCodesStatus(ctx context.Context, userID int64) (RecoveryCodesStatus, error) {
	codes, err := s.store.RecoveryCodes(ctx, userID)
	if err != nil {
		return RecoveryCodesStatus{}, err
	}
	st := RecoveryCodesStatus{Total: len(codes)}
	for _, c := range codes {
		if c.Used.IsZero() {
			st.Remaining++
		} else if c.Used.After(st.LastUsed) {
			st.LastUsed = c.Used
		}
	}
	return st, nil
}

// RegenerateRecoveryCodes checks proof (see reauthenticated for its limits and events),
// then replaces every recovery code of the user (used or not) with new ones, returned
// once, emitting AuditRecoveryCodesGenerated.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, u *User, proof MFAProof) (codes []string, err error) {
	ctx, opSpan := s.startOperation(ctx, "RegenerateRecoveryCodes")
	defer opSpan.end(&err)
	err = s.reauthenticated(ctx, u, proof, func() (err error) {
		codes, err = s.regenerateRecoveryCodes(ctx, u, proof)
		return err
	})
	return codes, err
}

func (s *Service) regenerateRecoveryCodes(ctx context.Context, u *User, proof MFAProof) ([]string, error) {
	d, enrolled, err := s.secondFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !enrolled {
		return nil, totpNotActive()
	}
	if err := s.checkMFAProof(ctx, u, d, proof); err != nil {
		return nil, err
	}
	codes, err := s.newRecoveryCodes(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	// A concurrent deactivation may have removed the device (and the codes) between the
	// check and the write: then these codes must not outlive it.
	if _, enrolled, err := s.secondFactors(ctx, u.ID); err != nil || !enrolled {
		if err == nil {
			err = s.store.DeleteTOTPDevice(ctx, u.ID)
		}
		if err != nil {
			return nil, err
		}
		return nil, totpNotActive()
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditRecoveryCodesGenerated, Detail: "count=" + strconv.Itoa(len(codes))})
	s.notify(ctx, MailRecoveryCodesGenerated, u, MailData{})
	return codes, nil
}
