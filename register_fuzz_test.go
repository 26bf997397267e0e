package restauth_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// FuzzRegistrationBody posts arbitrary bodies to registration/ and PATCH user/, where every
// field's validators run together: the answer is a documented 2xx/4xx (e.do checks it against
// the contract), never a 500.
func FuzzRegistrationBody(f *testing.F) {
	for _, seed := range []string{
		`{"username":"","password1":"123","password2":"123"}`,
		`{"username":"new","password1":"123"}`,
		`{"email":"x","password1":"123","password2":"123","username":"a b"}`,
		`{"username":"taken","email":"taken@example.com","password1":"correct-horse-battery","password2":"correct-horse-battery"}`,
		`{"username":"\u0000","email":"\u0000@x","first_name":["x"],"last_name":null}`,
		`{"username":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b"}`,
		`[]`, `{`, `"x"`, `{"username":{"a":1}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		e := newEnv(t, func(cfg *restauth.Config) { cfg.EmailVerification = restauth.VerificationMandatory })
		u, _ := e.register("taken", goodPassword, "taken@example.com")
		issued, err := e.svc.IssueToken(context.Background(), u, "fuzz")
		require.NoError(t, err)
		key := issued.Key
		res := e.do(http.MethodPost, "/api/auth/registration/", body, withHeader("Content-Type", "application/json"))
		require.Less(t, res.Code, 500, res.Body.String())
		res = e.do(http.MethodPatch, "/api/auth/user/", body, withHeader("Content-Type", "application/json"), withToken(key))
		require.Less(t, res.Code, 500, res.Body.String())
	})
}
