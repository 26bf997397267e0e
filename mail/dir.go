package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	netmail "net/mail"
	"os"
	"path/filepath"
	"time"

	"github.com/restauth/restauth"
)

// dirMailerFrom is the sender written into .eml files. A directory mailer has no real
// sender, but RFC 5322 requires a From header and mail clients show files without one
// oddly.
const dirMailerFrom = "restauth <noreply@localhost>"

// NewDirMailer returns a restauth.Mailer that writes every message as an RFC 5322 .eml
// file into dir instead of sending it — for development, and for tests that want to read
// the mail a real user would get. dir is created (mode 0700) if needed; files are created with mode
// 0600 because they contain live reset links and confirmation keys.
//
// File names are "<UTC time with nanoseconds>-<random>.eml", e.g.
// "20241130T153000.000000000Z-3f9a0c1d2e4b5a69.eml", so sorting them by name sorts them
// by time. Each file appears atomically (written under a temporary name, then renamed), so
// a reader polling the directory never sees half a message. The content is produced by
// the same go-mail writer the SMTP mailer uses, with From set to
// "restauth <noreply@localhost>".
func NewDirMailer(dir string) (restauth.Mailer, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: mail directory is required", restauth.ErrConfig)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restauth: mail directory: %w", err)
	}
	from, err := netmail.ParseAddress(dirMailerFrom)
	if err != nil {
		panic(err) // constant; cannot happen
	}
	return &dirMailer{dir: dir, from: from, now: time.Now}, nil
}

type dirMailer struct {
	dir  string
	from *netmail.Address
	now  func() time.Time
}

func (m *dirMailer) Send(ctx context.Context, msg *restauth.Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("restauth: mail directory: not written: %w", err)
	}
	now := m.now()
	gm, err := newGoMailMsg(m.from, msg, now)
	if err != nil {
		return err
	}
	// CreateTemp uses mode 0600; the name does not end in .eml so that readers looking
	// for messages skip a file that is still being written.
	tmp, err := os.CreateTemp(m.dir, ".tmp-*.part")
	if err != nil {
		return fmt.Errorf("restauth: mail directory: %w", err)
	}
	tmpName := tmp.Name()
	defer func() { _ = os.Remove(tmpName) }() // no-op after a successful rename
	if _, err := gm.WriteTo(tmp); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("restauth: mail directory: writing message: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("restauth: mail directory: %w", err)
	}
	if err := os.Rename(tmpName, filepath.Join(m.dir, emlFileName(now))); err != nil {
		return fmt.Errorf("restauth: mail directory: %w", err)
	}
	return nil
}

// emlFileName returns a unique name that sorts chronologically: the fixed-width UTC
// timestamp orders by time, the random suffix keeps concurrent messages apart.
func emlFileName(t time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return t.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:]) + ".eml"
}
