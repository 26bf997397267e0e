// Package drf holds the generic semantics of Django REST framework that the InvenTree 291
// dialect speaks: how a serializer's fields read a decoded body (CharField, IntegerField,
// BooleanField and their messages), how field errors are ordered in a 400 body, and how
// answers are written (JSONRenderer, LimitOffsetPagination, the Throttled message,
// InvenTree's 500 body). It knows nothing of accounts or of which route it serves.
package drf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/restauth/restauth/internal/validate"
)

// DRF's field messages.
const (
	MsgRequired     = "This field is required."
	MsgBlank        = "This field may not be blank."
	MsgNull         = "This field may not be null."
	MsgNotString    = "Not a valid string."
	MsgInvalidEmail = "Enter a valid email address."
	msgNotInteger   = "A valid integer is required."
)

// Errors holds field errors: field name → messages, in the order they were found. Its
// underlying type is that of the root's ValidationError.Fields, which converts to it.
type Errors map[string][]string

// Add appends messages to a field, creating the map on first use.
func (e *Errors) Add(field string, msgs ...string) {
	if *e == nil {
		*e = make(Errors)
	}
	(*e)[field] = append((*e)[field], msgs...)
}

// Form is a decoded request body: JSON object members, or form values. DRF reads JSON,
// url-encoded and multipart bodies alike, so the handlers read fields through it.
type Form struct {
	JSON   map[string]json.RawMessage
	Values url.Values
}

// CharField describes a DRF CharField (or EmailField) as the serializers declare it.
type CharField struct {
	Name       string
	Required   bool
	AllowBlank bool
	MaxLen     int  // in characters; 0 means unlimited
	NoTrim     bool // DRF trims whitespace unless trim_whitespace=False
	Email      bool
	// Validators are the model field's own validators (a ModelSerializer passes them to
	// the field before its max_length one); each returns its message, or "" when the
	// value passes.
	Validators []func(string) string
}

// Char reads a field with DRF's CharField rules and records any error in errs. It returns
// the cleaned value and whether the field was present.
func (f *Form) Char(errs *Errors, spec CharField) (string, bool) {
	value, present, bad := f.Raw(spec.Name)
	switch {
	case !present:
		if spec.Required {
			errs.Add(spec.Name, MsgRequired)
		}
		return "", false
	case bad != RawOK:
		errs.Add(spec.Name, bad.Message())
		return "", true
	}
	if !spec.NoTrim {
		value = strings.TrimSpace(value)
	}
	value, _ = spec.Check(errs, value)
	return value, true
}

// Check validates a field's text as DRF's CharField does once the value is read and
// trimmed, records any error in errs and returns the value ("" on error) and whether it
// passed. A blank value gets only the blank check. Otherwise, like DRF's run_validators,
// every validator of the field runs and all their messages are kept, in DRF's order: the
// model field's validators, max_length, the null-character check, then EmailField's
// address check.
func (spec CharField) Check(errs *Errors, value string) (string, bool) {
	if value == "" {
		if !spec.AllowBlank {
			errs.Add(spec.Name, MsgBlank)
			return "", false
		}
		return "", true
	}
	var msgs []string
	for _, validate := range spec.Validators {
		if msg := validate(value); msg != "" {
			msgs = append(msgs, msg)
		}
	}
	if spec.MaxLen > 0 && utf8.RuneCountInString(value) > spec.MaxLen {
		msgs = append(msgs, fmt.Sprintf("Ensure this field has no more than %d characters.", spec.MaxLen))
	}
	if strings.ContainsRune(value, 0) {
		msgs = append(msgs, "Null characters are not allowed.")
	}
	if !utf8.ValidString(value) {
		// Only a direct caller can get here (the body decoders give valid UTF-8), whose
		// text no store could hold (PostgreSQL refuses it): DRF's word for a bad string.
		msgs = append(msgs, RawNotString.Message())
	}
	if spec.Email && !validate.Email(value) {
		msgs = append(msgs, MsgInvalidEmail)
	}
	if len(msgs) > 0 {
		errs.Add(spec.Name, msgs...)
		return "", false
	}
	return value, true
}

// RawProblem is why a JSON value is not text, as DRF's CharField tells it.
type RawProblem uint8

const (
	RawOK        RawProblem = iota
	RawNull                 // null: "This field may not be null."
	RawNotString            // booleans, objects, arrays, bad strings: "Not a valid string."
)

// Message is DRF's message for the problem ("" for none).
func (p RawProblem) Message() string {
	switch p {
	case RawNull:
		return MsgNull
	case RawNotString:
		return MsgNotString
	}
	return ""
}

// Raw returns a field as text. bad tells why a JSON value is of a type a CharField refuses
// (null, booleans, objects, arrays); numbers become their text, as in DRF.
func (f *Form) Raw(name string) (value string, present bool, bad RawProblem) {
	if f.Values != nil {
		vs, ok := f.Values[name]
		if !ok || len(vs) == 0 {
			return "", false, RawOK
		}
		return vs[len(vs)-1], true, RawOK
	}
	msg, ok := f.JSON[name]
	if !ok {
		return "", false, RawOK
	}
	msg = bytes.TrimSpace(msg)
	if len(msg) == 0 {
		return "", false, RawOK
	}
	switch msg[0] {
	case '"':
		var s string
		if err := json.Unmarshal(msg, &s); err != nil {
			return "", true, RawNotString
		}
		return s, true, RawOK
	case 'n':
		return "", true, RawNull
	case 't', 'f', '{', '[':
		return "", true, RawNotString
	default:
		return string(msg), true, RawOK
	}
}

// Integer reads an optional integer field (DRF IntegerField / PrimaryKeyRelatedField).
func (f *Form) Integer(errs *Errors, name string) (int64, bool) {
	value, present, bad := f.Raw(name)
	if !present {
		return 0, false
	}
	switch bad {
	case RawNotString: // booleans, objects and arrays are not integers either
		errs.Add(name, msgNotInteger)
		return 0, true
	case RawNull:
		errs.Add(name, bad.Message())
		return 0, true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil {
		errs.Add(name, msgNotInteger)
		return 0, true
	}
	return n, true
}

// Boolean reads a DRF BooleanField leniently: true, 1, "true", "on", "yes" are true.
func (f *Form) Boolean(name string) bool {
	if f.JSON != nil {
		msg := bytes.TrimSpace(f.JSON[name])
		if len(msg) > 0 && msg[0] != '"' {
			return string(msg) == "true" || string(msg) == "1"
		}
	}
	value, _, _ := f.Raw(name)
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "true", "1", "on", "yes", "y", "t":
		return true
	}
	return false
}
