package mail

import (
	"context"
	"fmt"
	"maps"
	"mime"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/smtptest"
)

var emlNamePattern = regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}Z-[0-9a-f]{16}\.eml$`)

// testReadEML returns the names (sorted) and contents of the .eml files in dir.
func testReadEML(t testing.TB, dir string) ([]string, map[string]smtptest.Message) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	msgs := map[string]smtptest.Message{}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".eml" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		names = append(names, e.Name())
		msgs[e.Name()] = smtptest.Message{Data: b}
	}
	slices.Sort(names)
	return names, msgs
}

func TestDirMailerWritesEML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		msg       *restauth.Message
		wantType  string
		wantText  bool
		wantHTML  bool
		wantError string
	}{
		{name: "text and html", msg: &restauth.Message{To: []string{"alice@example.org"}, Subject: "[x] Reset", Text: "go to " + testResetLink + "\n", HTML: `<a href="x">y</a>`},
			wantType: "multipart/alternative", wantText: true, wantHTML: true},
		{name: "text only", msg: &restauth.Message{To: []string{"alice@example.org"}, Subject: "s", Text: testResetLink},
			wantType: "text/plain", wantText: true},
		{name: "html only", msg: &restauth.Message{To: []string{"alice@example.org"}, Subject: "s", HTML: "<p>hi</p>"},
			wantType: "text/html", wantHTML: true},
		{name: "several recipients", msg: &restauth.Message{To: []string{"a@example.org", "Bob <b@example.org>"}, Subject: "s", Text: "t"},
			wantType: "text/plain", wantText: true},
		{name: "no recipients", msg: &restauth.Message{Subject: "s", Text: "t"}, wantError: "no recipients"},
		{name: "bad recipient", msg: &restauth.Message{To: []string{"not an address"}, Subject: "s", Text: "t"}, wantError: "invalid recipient"},
		{name: "empty body", msg: &restauth.Message{To: []string{"a@example.org"}, Subject: "s"}, wantError: "empty body"},
		{name: "nil message", msg: nil, wantError: "nil message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "mail", "out")
			m, err := NewDirMailer(dir)
			require.NoError(t, err)

			err = m.Send(context.Background(), tc.msg)
			names, msgs := testReadEML(t, dir)
			if tc.wantError != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantError)
				entries, err := os.ReadDir(dir)
				require.NoError(t, err)
				assert.Empty(t, entries, "nothing written, no temporary file left")
				return
			}
			require.NoError(t, err)
			require.Len(t, names, 1)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no temporary file left")
			assert.Regexp(t, emlNamePattern, names[0])

			hdr, text, html := msgs[names[0]].Parts(t)
			mediaType, _, err := mime.ParseMediaType(hdr.Get("Content-Type"))
			require.NoError(t, err)
			assert.Equal(t, tc.wantType, mediaType)
			assert.Equal(t, tc.wantText, text != "")
			assert.Equal(t, tc.wantHTML, html != "")
			if tc.wantText {
				assert.Equal(t, tc.msg.Text, text)
			}
			if tc.wantHTML {
				assert.Equal(t, tc.msg.HTML, html)
			}
			assert.Equal(t, tc.msg.Subject, testDecodeHeader(t, hdr.Get("Subject")))
			from, err := netmail.ParseAddress(hdr.Get("From"))
			require.NoError(t, err)
			assert.Equal(t, "noreply@localhost", from.Address)
			to, err := hdr.AddressList("To")
			require.NoError(t, err)
			assert.Len(t, to, len(tc.msg.To))
			assert.NotEmpty(t, hdr.Get("Message-Id"))
			_, err = hdr.Date()
			assert.NoError(t, err)
		})
	}
}

func TestDirMailerPermissions(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	tests := []struct {
		name    string
		preMake bool
	}{
		{"creates the directory", false},
		{"uses an existing directory", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "mail")
			if tc.preMake {
				require.NoError(t, os.Mkdir(dir, 0o755))
			}
			m, err := NewDirMailer(dir)
			require.NoError(t, err)
			require.NoError(t, m.Send(context.Background(), &restauth.Message{To: []string{"a@example.org"}, Subject: "s", Text: testResetLink}))

			st, err := os.Stat(dir)
			require.NoError(t, err)
			if !tc.preMake {
				assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
			}
			names, _ := testReadEML(t, dir)
			require.Len(t, names, 1)
			st, err = os.Stat(filepath.Join(dir, names[0]))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "files hold live reset links")
		})
	}
}

func TestDirMailerNamesSortByTimeAndAreUnique(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m, err := NewDirMailer(dir)
	require.NoError(t, err)
	// A fixed clock makes every timestamp equal, so uniqueness rests on the random part,
	// then an advancing clock checks that name order is send order.
	dm := m.(*dirMailer)
	fixed := time.Date(2024, 11, 30, 15, 30, 0, 0, time.UTC)
	dm.now = func() time.Time { return fixed }

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			assert.NoError(t, m.Send(context.Background(), &restauth.Message{To: []string{"a@example.org"}, Subject: fmt.Sprint(i), Text: "t"}))
		})
	}
	wg.Wait()
	names, _ := testReadEML(t, dir)
	require.Len(t, names, 20)
	for _, n := range names {
		assert.Regexp(t, `^20241130T153000\.000000000Z-`, n)
	}

	dir2 := t.TempDir()
	m2, err := NewDirMailer(dir2)
	require.NoError(t, err)
	// A non-UTC zone: names must use UTC, or order would depend on the host's zone.
	clock := time.Date(2024, 12, 31, 23, 59, 59, 999_999_990, time.FixedZone("CET", 3600))
	m2.(*dirMailer).now = func() time.Time {
		clock = clock.Add(3 * time.Nanosecond) // crosses a second boundary
		return clock
	}
	for i := range 10 {
		require.NoError(t, m2.Send(context.Background(), &restauth.Message{To: []string{"a@example.org"}, Subject: fmt.Sprintf("msg-%02d", i), Text: "t"}))
	}
	names, msgs := testReadEML(t, dir2)
	require.Len(t, names, 10)
	for i, n := range names {
		hdr, _, _ := msgs[n].Parts(t)
		assert.Equal(t, fmt.Sprintf("msg-%02d", i), hdr.Get("Subject"), "name order is send order")
	}
}

func TestDirMailerHonoursContext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m, err := NewDirMailer(dir)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = m.Send(ctx, &restauth.Message{To: []string{"a@example.org"}, Subject: "s", Text: "t"})
	require.ErrorIs(t, err, context.Canceled)
	names, _ := testReadEML(t, dir)
	assert.Empty(t, names)
}

func TestNewDirMailerErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	tests := []struct {
		name string
		dir  string
	}{
		{"empty", ""},
		{"path is a file", file},
		{"below a file", filepath.Join(file, "sub")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewDirMailer(tc.dir)
			assert.Error(t, err)
		})
	}
}

// TestDirAndSMTPMailerWriteTheSameFormat checks that an .eml file is what an SMTP server
// receives: same headers (apart from per-message values) and same MIME structure.
func TestDirAndSMTPMailerWriteTheSameFormat(t *testing.T) {
	t.Parallel()
	msg, err := testRender(t, restauth.MailEmailConfirmation, "[x] ", "alice@example.org",
		restauth.MailData{SiteURL: "https://example.com", Username: "alice", Email: "alice@example.org", Link: testResetLink})
	require.NoError(t, err)

	dir := t.TempDir()
	dm, err := NewDirMailer(dir)
	require.NoError(t, err)
	require.NoError(t, dm.Send(context.Background(), msg))
	names, files := testReadEML(t, dir)
	require.Len(t, names, 1)

	srv := &smtptest.Server{}
	srv.Start(t)
	sm, err := NewSMTPMailer(smtpConfigFor(srv, dirMailerFrom))
	require.NoError(t, err)
	require.NoError(t, sm.Send(context.Background(), msg))
	got := srv.Messages()
	require.Len(t, got, 1)

	fileHdr, fileText, fileHTML := files[names[0]].Parts(t)
	smtpHdr, smtpText, smtpHTML := got[0].Parts(t)
	assert.Equal(t, smtpText, fileText)
	assert.Equal(t, smtpHTML, fileHTML)
	assert.Equal(t, msg.Text, fileText)
	assert.Equal(t, msg.HTML, fileHTML)
	assert.ElementsMatch(t, slices.Collect(maps.Keys(smtpHdr)), slices.Collect(maps.Keys(fileHdr)))
	for _, h := range []string{"From", "To", "Subject", "Mime-Version", "Auto-Submitted", "User-Agent"} {
		assert.Equal(t, smtpHdr.Get(h), fileHdr.Get(h), h)
	}
}
