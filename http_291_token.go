package restauth

import (
	"net/http"
	"strings"

	"github.com/restauth/restauth/internal/drf"
)

// This file serves the 291 token routes below /api/user/ (InvenTree's token/ and tokens/
// views); the operations are in token.go.

// tokenJSON is InvenTree's ApiToken serializer output; the key is shown masked.
type tokenJSON struct {
	Created  jsonTime `json:"created"`
	Expiry   jsonDate `json:"expiry"`
	ID       int64    `json:"id"`
	LastSeen jsonDate `json:"last_seen"`
	Name     string   `json:"name"`
	Token    string   `json:"token"`
	Active   bool     `json:"active"`
	Revoked  bool     `json:"revoked"`
	User     int64    `json:"user"`
	InUse    bool     `json:"in_use"`
}

// tokenOut shapes t for the token list. prefix is Config.Tokens.Prefix (the mask is as long
// as the key was), active is Service.TokenActive(t), and current is the token the request
// was authenticated with, if any.
func tokenOut(t, current *APIToken, prefix string, active bool) tokenJSON {
	keyLen := len(prefix) + 2*tokenRandomBytes + len("-YYYYMMDD")
	return tokenJSON{
		Created:  jsonTime(t.Created),
		Expiry:   jsonDate(t.Expiry),
		ID:       t.ID,
		LastSeen: jsonDate(t.LastSeen),
		Name:     t.Name,
		Token:    t.KeyPrefix + strings.Repeat("*", max(keyLen-tokenMaskedPrefix-tokenMaskedSuffix, 1)) + t.KeySuffix,
		Active:   active,
		Revoked:  t.Revoked,
		User:     t.UserID,
		InUse:    current != nil && current.ID == t.ID,
	}
}

// userToken is GET /api/user/token/?name= (and me/token/, where InvenTree >= API 490
// serves it): the caller's token of that name, issued on the first call and handed out
// again afterwards, as the reference's GetAuthToken does (Service.TokenByName).
func (d *api291) userToken(w http.ResponseWriter, r *http.Request) error {
	issued, err := d.svc.TokenByName(r.Context(), caller(r), r.URL.Query().Get("name"))
	if err != nil {
		return err
	}
	noStore(w)
	drf.WriteJSON(w, http.StatusOK, struct {
		Token  string   `json:"token"`
		Name   string   `json:"name"`
		Expiry jsonDate `json:"expiry"`
	}{issued.Key, issued.Token.Name, jsonDate(issued.Token.Expiry)})
	return nil
}

// tokenList is GET tokens/: the caller's tokens, revoked and expired ones included.
func (d *api291) tokenList(w http.ResponseWriter, r *http.Request) error {
	tokens, err := d.svc.Tokens(r.Context(), caller(r).ID)
	if err != nil {
		return err
	}
	current := callerToken(r)
	out := make([]tokenJSON, len(tokens))
	for i := range tokens {
		t := &tokens[i]
		out[i] = tokenOut(t, current, d.svc.cfg.Tokens.Prefix, d.svc.TokenActive(t))
	}
	drf.WriteList(w, r, out)
	return nil
}

// tokenDetail: DELETE tokens/{id}/ revokes (204); GET answers the list, as the reference
// does.
func (d *api291) tokenDetail(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodDelete {
		return d.tokenList(w, r)
	}
	if err := d.svc.RevokeToken(r.Context(), caller(r), pathID(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
