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
