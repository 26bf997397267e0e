package jsonenc

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var stringCases = []string{
	"",
	"plain ascii",
	`quote " and backslash \`,
	"<script>&amp;</script>",
	"new\nline\rreturn\ttab\bback\fform",
	"\x00\x01\x1f\x7f",
	"héllo wörld ✓ 日本",
	"line\u2028para\u2029end",
	"bad utf-8 \xff\xfe here",
	"truncated \xe2\x82",
	"\U0001F600 emoji",
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range stringCases {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, marshalNoHTMLEscape(t, s), string(AppendString(nil, s)))
		})
	}
}

// marshalNoHTMLEscape is encoding/json's encoding of v without HTML escaping, as DRF writes.
func marshalNoHTMLEscape(t testing.TB, v any) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return strings.TrimSuffix(b.String(), "\n")
}

func TestAppendStringAppends(t *testing.T) {
	t.Parallel()
	assert.Equal(t, `{"a":"x\"y"`, string(AppendString([]byte(`{"a":`), `x"y`)))
}

func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		require.Equal(t, marshalNoHTMLEscape(t, s), string(AppendString(nil, s)))
	})
}

func TestTimeAndDate(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 11, 30, 16, 30, 0, 123456789, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"time in UTC with milliseconds", Time(at), `"2024-11-30T15:30:00.123Z"`},
		{"whole seconds keep .000", Time(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)), `"2024-01-02T03:04:05.000Z"`},
		{"date in UTC", Date(time.Date(2024, 12, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600))), `"2024-11-30"`},
		{"zero date is null", Date(time.Time{}), `null`},
		{"fields", struct {
			T Time `json:"t"`
			D Date `json:"d"`
		}{Time(at), Date(at)}, `{"t":"2024-11-30T15:30:00.123Z","d":"2024-11-30"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tt.v)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}
