package restauth_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// A multipart body whose file part is too big for memory must not leave a temporary file
// behind: anyone could otherwise fill the disk with anonymous requests.
func TestMultipartFilesAreRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // os.TempDir, where mime/multipart spills file parts
	e := newEnv(t, func(cfg *restauth.Config) { cfg.MaxBodyBytes = 8 << 20 })

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("email", "nobody@example.com"))
	part, err := mw.CreateFormFile("upload", "big.bin")
	require.NoError(t, err)
	_, err = part.Write(bytes.Repeat([]byte("x"), 3<<20))
	require.NoError(t, err)
	require.NoError(t, mw.Close())

	req := httptest.NewRequest(http.MethodPost, "http://testserver/api/auth/password/reset/", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary file is left behind")
}

// Percent-encoding can carry bytes that are not UTF-8; they become U+FFFD, as in Django,
// instead of reaching a store that refuses them (PostgreSQL answered 500).
func TestFormValuesInvalidUTF8(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.register("utf", goodPassword, "")
	res := e.do(http.MethodPatch, "/api/auth/user/", "first_name=Ren%FF", withToken(key),
		withHeader("Content-Type", "application/x-www-form-urlencoded"))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, "Ren\uFFFD", res.JSON(t)["first_name"])
	res = e.do(http.MethodPost, "/api/auth/login/", "username=ut%FFf&password=x",
		withHeader("Content-Type", "application/x-www-form-urlencoded"))
	assert.Equal(t, http.StatusBadRequest, res.Code)
}
