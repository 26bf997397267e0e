// Package jsonenc holds the few JSON encodings restauth writes by hand or with a fixed
// layout: strings appended byte-for-byte as encoding/json would write them (for bodies
// built without reflection, which cannot fail), and the time and date layouts of the
// reference's serializers. It knows nothing of DRF or accounts.
package jsonenc

import (
	"time"
	"unicode/utf8"
)

// Time renders a time as RFC 3339 in UTC with milliseconds, e.g. 2024-11-30T15:30:00.000Z.
type Time time.Time

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 26)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, '"'), nil
}

// Date renders a date as YYYY-MM-DD; the zero time is null.
type Date time.Time

// MarshalJSON implements json.Marshaler.
func (d Date) MarshalJSON() ([]byte, error) {
	if time.Time(d).IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 12)
	b = append(b, '"')
	b = time.Time(d).UTC().AppendFormat(b, "2006-01-02")
	return append(b, '"'), nil
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string as DRF's JSONRenderer writes it, which is
// encoding/json with SetEscapeHTML(false): control characters, U+2028 and U+2029 escaped,
// invalid UTF-8 as U+FFFD, but "<", ">" and "&" as they are (scripts that grep a body for
// "?limit=2&offset=2" must find it; a JSON answer is never rendered as HTML).
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
