package drf

import (
	"cmp"
	"slices"

	"github.com/restauth/restauth/internal/jsonenc"
)

// NonFieldErrors is DRF's key for errors that belong to no single field.
const NonFieldErrors = "non_field_errors"

// DRF reports a serializer's field errors in the order the serializer declares its fields
// (username, email, password1, password2 for registration), and non_field_errors, which
// only the object-level checks raise, after them. Go maps have no order, so the errors are
// written in this rank: one list serves every 291 serializer, because none declares two of
// these fields in the opposite order. Unlisted fields follow, by name.
var fieldRank = func() map[string]int {
	order := []string{
		"username", "email", "code", "password", "mfa_code", "password1", "password2",
		"old_password", "new_password1", "new_password2", "uid", "token", "key",
		"first_name", "last_name", "user",
	}
	rank := make(map[string]int, len(order))
	for i, f := range order {
		rank[f] = i
	}
	return rank
}()

// FieldErrorsJSON encodes DRF's 400 body for fields in serializer order.
func FieldErrorsJSON(fields map[string][]string) []byte {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ra, okA := fieldRank[a]
		rb, okB := fieldRank[b]
		switch {
		case a == NonFieldErrors || b == NonFieldErrors:
			return cmp.Compare(boolRank(a == NonFieldErrors), boolRank(b == NonFieldErrors))
		case okA && okB:
			return cmp.Compare(ra, rb)
		case okA != okB:
			return cmp.Compare(boolRank(!okA), boolRank(!okB))
		}
		return cmp.Compare(a, b)
	})
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, k)
		b = append(b, ':', '[')
		for j, msg := range fields[k] {
			if j > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, msg)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func boolRank(v bool) int {
	if v {
		return 1
	}
	return 0
}
