package restauth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/restauth/restauth/internal/validate"
)

// socialProfile is what a provider tells about the account.
type socialProfile struct {
	UID           string
	Email         string
	EmailVerified bool
	Username      string
	FirstName     string
	LastName      string
	// Extra is the profile as JSON, kept in SocialAccount.ExtraData.
	Extra []byte
}

// fetchProfile exchanges the code (with the PKCE verifier) and reads the profile: from the
// verified ID token (completed from user-info) for OpenID Connect, from the user-info URL
// for OAuth2.
func (s *Service) fetchProfile(ctx context.Context, p *socialProvider, flow *socialFlow, code string) (*socialProfile, *SocialError) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ctx = oidc.ClientContext(ctx, s.social.client)
	tok, err := s.oauth2Config(p).Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		return nil, socialFail(SocialReasonExchangeFailed, err)
	}
	var claims map[string]any
	if p.isOIDC() {
		claims, err = s.verifyIDToken(ctx, p, flow, tok)
		if err != nil {
			if errors.Is(err, errNonceMismatch) {
				return nil, socialFail(SocialReasonNonceMismatch, err)
			}
			return nil, socialFail(SocialReasonInvalidIDToken, err)
		}
		if claimString(claims, p.cfg.Fields.Email) == "" && p.userInfo != "" {
			info, err := s.getJSON(ctx, p.userInfo, tok)
			if err != nil {
				return nil, socialFail(SocialReasonProfileFailed, err)
			}
			infoMap, ok := info.(map[string]any)
			if !ok || claimString(infoMap, "sub") != claimString(claims, "sub") {
				return nil, socialFail(SocialReasonProfileFailed, errors.New("user-info does not describe the ID token's subject"))
			}
			for k, v := range infoMap {
				if _, has := claims[k]; !has {
					claims[k] = v
				}
			}
		}
	} else {
		info, err := s.getJSON(ctx, p.userInfo, tok)
		if err != nil {
			return nil, socialFail(SocialReasonProfileFailed, err)
		}
		var ok bool
		if claims, ok = info.(map[string]any); !ok {
			return nil, socialFail(SocialReasonProfileFailed, errors.New("user-info is not a JSON object"))
		}
	}
	fl := p.cfg.Fields
	prof := &socialProfile{
		UID:       claimString(claims, fl.UID),
		Email:     strings.TrimSpace(claimString(claims, fl.Email)),
		Username:  claimString(claims, fl.Username),
		FirstName: claimString(claims, fl.FirstName),
		LastName:  claimString(claims, fl.LastName),
	}
	if fl.EmailVerified != "-" {
		switch v := claimAt(claims, fl.EmailVerified).(type) {
		case bool:
			prof.EmailVerified = v
		case string:
			prof.EmailVerified = strings.EqualFold(v, "true")
		}
	}
	if prof.FirstName == "" && prof.LastName == "" {
		if name := strings.TrimSpace(claimString(claims, fl.Name)); name != "" {
			prof.FirstName, prof.LastName, _ = strings.Cut(name, " ")
		}
	}
	if p.cfg.EmailsURL != "" {
		// Without the list (a scope not granted) the account simply has no verified address.
		if err := s.readEmails(ctx, p.cfg.EmailsURL, tok, prof); err != nil {
			s.log.WarnContext(ctx, "restauth: could not read the provider's e-mail list", "provider", p.cfg.ID, "error", err)
		}
	}
	if prof.UID == "" || len(prof.UID) > 191 {
		return nil, socialFail(SocialReasonProfileFailed, errors.New("the profile has no usable account id"))
	}
	if !validate.Email(prof.Email) || len(prof.Email) > maxEmailLength {
		prof.Email, prof.EmailVerified = "", false
	}
	prof.FirstName = clipRunes(strings.TrimSpace(prof.FirstName), maxNameLength)
	prof.LastName = clipRunes(strings.TrimSpace(prof.LastName), maxNameLength)
	prof.Extra, _ = json.Marshal(claims)
	return prof, nil
}

var errNonceMismatch = errors.New("the ID token's nonce is not the flow's")

// verifyIDToken checks the ID token's signature, issuer, audience (our client id, and the
// authorised party when there are several audiences), expiry, nonce and, when present,
// access-token hash, and returns its claims.
func (s *Service) verifyIDToken(ctx context.Context, p *socialProvider, flow *socialFlow, tok *oauth2.Token) (map[string]any, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("the token response has no id_token")
	}
	p.mu.Lock()
	verifier := p.verifier
	p.mu.Unlock()
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	var payload json.RawMessage
	if err := idt.Claims(&payload); err != nil {
		return nil, err
	}
	// Decoded with UseNumber, so a numeric account id keeps every digit.
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, err
	}
	if p.cfg.issuerTemplate != "" {
		tid := claimString(claims, "tid")
		if tid == "" || idt.Issuer != strings.ReplaceAll(p.cfg.issuerTemplate, "{tenantid}", tid) {
			return nil, fmt.Errorf("issuer %q does not match the token's tenant", idt.Issuer)
		}
	}
	if len(idt.Audience) > 1 && claimString(claims, "azp") != p.cfg.ClientID {
		return nil, errors.New("the ID token has several audiences and another authorised party")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return nil, errNonceMismatch
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, err
		}
	}
	if idt.Subject == "" {
		return nil, errors.New("the ID token has no subject")
	}
	return claims, nil
}

// maxProfileBytes bounds every answer read from a provider.
const maxProfileBytes = 1 << 20

// limitedTransport caps response bodies from providers (discovery, keys, tokens,
// profiles), so a hostile or broken provider cannot make the server read without end.
type limitedTransport struct{ base http.RoundTripper }

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(r)
	if err == nil && res.Body != nil {
		res.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(res.Body, maxProfileBytes), res.Body}
	}
	return res, err
}

// getJSON GETs url with the access token and decodes the JSON answer (numbers kept exact).
func (s *Service) getJSON(ctx context.Context, target string, tok *oauth2.Token) (any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	tok.SetAuthHeader(req)
	res, err := s.social.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", target, res.Status)
	}
	dec := json.NewDecoder(res.Body)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("GET %s: %w", target, err)
	}
	return v, nil
}

// readEmails takes the primary address (and whether it is verified) from a GitHub-shaped
// e-mail list.
func (s *Service) readEmails(ctx context.Context, target string, tok *oauth2.Token, prof *socialProfile) error {
	v, err := s.getJSON(ctx, target, tok)
	if err != nil {
		return err
	}
	list, ok := v.([]any)
	if !ok {
		return errors.New("the e-mail list is not a JSON array")
	}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok || m["primary"] != true {
			continue
		}
		prof.Email = strings.TrimSpace(claimString(m, "email"))
		prof.EmailVerified = m["verified"] == true
		return nil
	}
	return nil
}

// claimAt follows a dot-separated path through nested objects.
func claimAt(m map[string]any, path string) any {
	var cur any = m
	for part := range strings.SplitSeq(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[part]
	}
	return cur
}

// claimString is claimAt as a string: strings as they are, numbers in decimal.
func claimString(m map[string]any, path string) string {
	switch v := claimAt(m, path).(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
