package sso

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Profile is what a provider tells about the account, as it said it: the caller applies
// its own limits (the lengths its accounts allow, a valid address).
type Profile struct {
	UID           string
	Email         string
	EmailVerified bool
	Username      string
	FirstName     string
	LastName      string
	// Extra is the profile as JSON, for the caller to keep.
	Extra []byte
}

// Stage is the step of reading a profile that failed, for the caller to name the failure.
type Stage int

// The stages of Profile, in an *Error.
const (
	// StageExchange: the provider refused the code.
	StageExchange Stage = iota + 1
	// StageIDToken: the OpenID Connect ID token failed verification.
	StageIDToken
	// StageNonce: the ID token was not issued for this flow.
	StageNonce
	// StageProfile: the profile could not be read.
	StageProfile
)

// Error is a failed Profile: the stage that failed and its cause.
type Error struct {
	Stage Stage
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func fail(stage Stage, err error) *Error { return &Error{Stage: stage, Err: err} }

var errNonceMismatch = errors.New("the ID token's nonce is not the flow's")

// Profile exchanges the code (with the flow's PKCE verifier and its redirect URL, "" for
// the configured one) and reads the profile: from the verified ID token (checked against
// the flow's nonce, completed from user-info) for OpenID Connect, from the user-info URL
// for OAuth2. Call it after Ready. Every failure is an *Error.
func (p *Provider) Profile(ctx context.Context, code, verifier, nonce, redirect string) (*Profile, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ctx = oidc.ClientContext(ctx, p.cfg.Client)
	tok, err := p.oauth2Config(redirect).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fail(StageExchange, err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	return p.profile(ctx, tok, idToken, &nonce)
}

// TokenProfile reads the profile of tokens a native app obtained from the provider by
// itself (allauth's provider token flow). For OpenID Connect the ID token is required and
// verified as after a code exchange (signature, issuer, our client id as audience, expiry,
// the access token's hash when both are given) except for the nonce, which the app chose;
// the access token, when given, completes the profile from user-info. For OAuth2 the
// access token is required and the provider's user-info answer is the profile. Call it
// after Ready. Every failure is an *Error, StageIDToken for a refused ID token and
// StageProfile for an access token the provider does not accept.
func (p *Provider) TokenProfile(ctx context.Context, idToken, accessToken string) (*Profile, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ctx = oidc.ClientContext(ctx, p.cfg.Client)
	if p.IsOIDC() && idToken == "" {
		return nil, fail(StageIDToken, errors.New("an OpenID Connect provider token needs an ID token"))
	}
	if !p.IsOIDC() && accessToken == "" {
		return nil, fail(StageProfile, errors.New("an OAuth2 provider token needs an access token"))
	}
	return p.profile(ctx, &oauth2.Token{AccessToken: accessToken, TokenType: "Bearer"}, idToken, nil)
}

// profile reads the profile of tok (and, for OpenID Connect, of the ID token, checked
// against *nonce unless nonce is nil).
func (p *Provider) profile(ctx context.Context, tok *oauth2.Token, idToken string, nonce *string) (*Profile, error) {
	var claims map[string]any
	var err error
	if p.IsOIDC() {
		claims, err = p.verifyIDToken(ctx, nonce, idToken, tok.AccessToken)
		if err != nil {
			if errors.Is(err, errNonceMismatch) {
				return nil, fail(StageNonce, err)
			}
			return nil, fail(StageIDToken, err)
		}
		p.mu.Lock()
		userInfo := p.userInfo
		p.mu.Unlock()
		if claimString(claims, p.cfg.Fields.Email) == "" && userInfo != "" && tok.AccessToken != "" {
			info, err := p.getJSON(ctx, userInfo, tok)
			if err != nil {
				return nil, fail(StageProfile, err)
			}
			infoMap, ok := info.(map[string]any)
			if !ok || claimString(infoMap, "sub") != claimString(claims, "sub") {
				return nil, fail(StageProfile, errors.New("user-info does not describe the ID token's subject"))
			}
			for k, v := range infoMap {
				if _, has := claims[k]; !has {
					claims[k] = v
				}
			}
		}
	} else {
		info, err := p.getJSON(ctx, p.cfg.UserInfoURL, tok)
		if err != nil {
			return nil, fail(StageProfile, err)
		}
		var ok bool
		if claims, ok = info.(map[string]any); !ok {
			return nil, fail(StageProfile, errors.New("user-info is not a JSON object"))
		}
	}
	fl := p.cfg.Fields
	prof := &Profile{
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
		if err := p.readEmails(ctx, p.cfg.EmailsURL, tok, prof); err != nil {
			p.cfg.Log.WarnContext(ctx, "restauth: could not read the provider's e-mail list", "provider", p.cfg.ID, "error", err)
		}
	}
	prof.Extra, _ = json.Marshal(claims)
	return prof, nil
}

// verifyIDToken checks the ID token raw's signature, issuer, audience (our client id, and
// the authorised party when there are several audiences), expiry, nonce (unless nil) and,
// when present, access-token hash, and returns its claims.
func (p *Provider) verifyIDToken(ctx context.Context, nonce *string, raw, accessToken string) (map[string]any, error) {
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
	if p.cfg.IssuerTemplate != "" {
		tid := claimString(claims, "tid")
		if tid == "" || idt.Issuer != strings.ReplaceAll(p.cfg.IssuerTemplate, "{tenantid}", tid) {
			return nil, fmt.Errorf("issuer %q does not match the token's tenant", idt.Issuer)
		}
	}
	if len(idt.Audience) > 1 && claimString(claims, "azp") != p.cfg.ClientID {
		return nil, errors.New("the ID token has several audiences and another authorised party")
	}
	if nonce != nil && subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(*nonce)) != 1 {
		return nil, errNonceMismatch
	}
	if idt.AccessTokenHash != "" && accessToken != "" {
		if err := idt.VerifyAccessToken(accessToken); err != nil {
			return nil, err
		}
	}
	if idt.Subject == "" {
		return nil, errors.New("the ID token has no subject")
	}
	return claims, nil
}

// getJSON GETs url with the access token and decodes the JSON answer (numbers kept exact).
func (p *Provider) getJSON(ctx context.Context, target string, tok *oauth2.Token) (any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	tok.SetAuthHeader(req)
	res, err := p.cfg.Client.Do(req)
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
func (p *Provider) readEmails(ctx context.Context, target string, tok *oauth2.Token, prof *Profile) error {
	v, err := p.getJSON(ctx, target, tok)
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
