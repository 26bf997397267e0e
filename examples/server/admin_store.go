package main

import (
	"context"
	"time"

	"github.com/restauth/restauth"
)

// adminStore is the store as the Service of an admin command sees it: its outbox has no
// mail for the command to deliver. The mail in the outbox is the server's: sealed under
// the server's RESTAUTH_SECRET, which an admin command need not have (a mail its Service
// cannot open it gives up), and to be sent with the server's mail flags, which an admin
// command seldom repeats (its log mailer would take the mail for sent). A command's own
// mail does not go through the outbox: openApp sends it in the command
// (MailConfig.SendInRequest).
type adminStore struct{ restauth.Store }

// ClaimMail claims nothing: the server delivers its mail.
func (adminStore) ClaimMail(context.Context, time.Time, time.Duration, int) ([]restauth.OutboxMail, error) {
	return nil, nil
}

// adminTxStore is an adminStore of a store with transactions, which the operations use
// when the store offers them.
type adminTxStore struct {
	adminStore
	tx restauth.Transactor
}

// InTx is the store's own.
func (s adminTxStore) InTx(ctx context.Context, fn func(ctx context.Context, tx restauth.Store) error) error {
	return s.tx.InTx(ctx, fn)
}

// newAdminStore wraps st for an admin command's Service, keeping its transactions.
func newAdminStore(st restauth.Store) restauth.Store {
	if tx, ok := st.(restauth.Transactor); ok {
		return adminTxStore{adminStore{st}, tx}
	}
	return adminStore{st}
}
