package restauth

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogMailerNeverLogsBody(t *testing.T) {
	t.Parallel()
	const secret = "uid=MQ&token=c3x9qm-SECRET-0f1e2d3c"
	tests := []struct {
		name string
		msg  *Message
	}{
		{"text and html", &Message{To: []string{"a@example.com"}, Subject: "Password Reset E-mail",
			Text: "https://example.com/reset?" + secret, HTML: `<a href="https://example.com/reset?` + secret + `">x</a>`}},
		{"text only", &Message{To: []string{"a@example.com", "b@example.com"}, Subject: "Confirm", Text: secret}},
		{"html only", &Message{To: []string{"a@example.com"}, Subject: "Exists", HTML: secret}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, h := range []func(*bytes.Buffer) slog.Handler{
				func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
				func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			} {
				var buf bytes.Buffer
				require.NoError(t, NewLogMailer(slog.New(h(&buf))).Send(context.Background(), tc.msg))
				out := buf.String()
				assert.NotContains(t, out, "SECRET")
				assert.NotContains(t, out, "token=")
				assert.Contains(t, out, tc.msg.Subject)
				for _, to := range tc.msg.To {
					assert.Contains(t, out, to)
				}
			}
		})
	}
}

func TestLogMailerNilMessage(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	assert.Error(t, NewLogMailer(slog.New(slog.NewTextHandler(&buf, nil))).Send(context.Background(), nil))
	assert.Empty(t, buf.String())
}

func TestMailerFunc(t *testing.T) {
	t.Parallel()
	var got []*Message
	var m Mailer = MailerFunc(func(_ context.Context, msg *Message) error {
		got = append(got, msg)
		return nil
	})
	msg := &Message{To: []string{"a@example.com"}, Subject: "s", Text: "t"}
	require.NoError(t, m.Send(context.Background(), msg))
	assert.Equal(t, []*Message{msg}, got)
}
