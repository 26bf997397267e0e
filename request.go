package restauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/restauth/restauth/internal/form"
	"github.com/restauth/restauth/internal/validate"
)

// requestError is a problem with the request as a whole, answered with its status and
// {"detail": …}.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string { return e.detail }

// formData is a decoded request body: JSON object members, or form values. DRF reads JSON,
// url-encoded and multipart bodies alike, so the handlers read fields through it.
type formData struct {
	json   map[string]json.RawMessage
	values url.Values
}

// decodeBody reads r's body according to its Content-Type (internal/form), at most
// Config.MaxBodyBytes: a declared length over it is refused (413) without reading a byte.
// An empty body is an empty form, as in DRF. Nothing keeps the body once it is decoded.
func (s *Service) decodeBody(w http.ResponseWriter, r *http.Request) (*formData, error) {
	body, err := form.Decode(w, r, s.cfg.MaxBodyBytes)
	var bad *form.Error
	var notObject *form.NotObjectError
	switch {
	case errors.As(err, &bad):
		return nil, &requestError{bad.Status, bad.Detail}
	case errors.As(err, &notObject):
		return nil, fieldError(nonFieldErrors, notObject.Error())
	case err != nil:
		return nil, err
	}
	return &formData{json: body.JSON, values: body.Values}, nil
}

// decode reads the body (see Service.decodeBody) for a 291 handler.
func (d *api291) decode(w http.ResponseWriter, r *http.Request) (*formData, error) {
	return d.svc.decodeBody(w, r)
}

// fields decodes the body and reads the char fields, in the serializer's order, returning
// their cleaned values by name. A body problem, or the errors of every field together (as
// DRF collects them), is the error: the one preamble of the handlers whose fields are all
// strings.
func (d *api291) fields(w http.ResponseWriter, r *http.Request, specs ...charField) (map[string]string, error) {
	f, err := d.decode(w, r)
	if err != nil {
		return nil, err
	}
	var errs ValidationError
	values := make(map[string]string, len(specs))
	for _, spec := range specs {
		values[spec.name], _ = f.char(&errs, spec)
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	return values, nil
}

// charField describes a DRF CharField (or EmailField) as the serializers declare it.
type charField struct {
	name       string
	required   bool
	allowBlank bool
	maxLen     int  // in characters; 0 means unlimited
	noTrim     bool // DRF trims whitespace unless trim_whitespace=False
	email      bool
	// validators are the model field's own validators (a ModelSerializer passes them to
	// the field before its max_length one); each returns its message, or "" when the
	// value passes.
	validators []func(string) string
}

// char reads a field with DRF's CharField rules and records any error in errs. It returns
// the cleaned value and whether the field was present.
func (f *formData) char(errs *ValidationError, spec charField) (string, bool) {
	value, present, bad := f.raw(spec.name)
	switch {
	case !present:
		if spec.required {
			errs.add(spec.name, msgRequired)
		}
		return "", false
	case bad != rawOK:
		errs.add(spec.name, bad.message())
		return "", true
	}
	if !spec.noTrim {
		value = strings.TrimSpace(value)
	}
	value, _ = spec.check(errs, value)
	return value, true
}

// check validates a field's text as DRF's CharField does once the value is read and
// trimmed, records any error in errs and returns the value ("" on error) and whether it
// passed. A blank value gets only the blank check. Otherwise, like DRF's run_validators,
// every validator of the field runs and all their messages are kept, in DRF's order: the
// model field's validators, max_length, the null-character check, then EmailField's
// address check.
func (spec charField) check(errs *ValidationError, value string) (string, bool) {
	if value == "" {
		if !spec.allowBlank {
			errs.add(spec.name, msgBlank)
			return "", false
		}
		return "", true
	}
	var msgs []string
	for _, validate := range spec.validators {
		if msg := validate(value); msg != "" {
			msgs = append(msgs, msg)
		}
	}
	if spec.maxLen > 0 && utf8.RuneCountInString(value) > spec.maxLen {
		msgs = append(msgs, fmt.Sprintf("Ensure this field has no more than %d characters.", spec.maxLen))
	}
	if strings.ContainsRune(value, 0) {
		msgs = append(msgs, "Null characters are not allowed.")
	}
	if spec.email && !validate.Email(value) {
		msgs = append(msgs, msgInvalidEmail)
	}
	if len(msgs) > 0 {
		errs.add(spec.name, msgs...)
		return "", false
	}
	return value, true
}

// rawProblem is why a JSON value is not text, as DRF's CharField tells it.
type rawProblem uint8

const (
	rawOK        rawProblem = iota
	rawNull                 // null: "This field may not be null."
	rawNotString            // booleans, objects, arrays, bad strings: "Not a valid string."
)

// message is DRF's message for the problem ("" for none).
func (p rawProblem) message() string {
	switch p {
	case rawNull:
		return msgNull
	case rawNotString:
		return msgNotString
	}
	return ""
}

// raw returns a field as text. bad tells why a JSON value is of a type a CharField refuses
// (null, booleans, objects, arrays); numbers become their text, as in DRF.
func (f *formData) raw(name string) (value string, present bool, bad rawProblem) {
	if f.values != nil {
		vs, ok := f.values[name]
		if !ok || len(vs) == 0 {
			return "", false, rawOK
		}
		return vs[len(vs)-1], true, rawOK
	}
	msg, ok := f.json[name]
	if !ok {
		return "", false, rawOK
	}
	msg = bytes.TrimSpace(msg)
	if len(msg) == 0 {
		return "", false, rawOK
	}
	switch msg[0] {
	case '"':
		var s string
		if err := json.Unmarshal(msg, &s); err != nil {
			return "", true, rawNotString
		}
		return s, true, rawOK
	case 'n':
		return "", true, rawNull
	case 't', 'f', '{', '[':
		return "", true, rawNotString
	default:
		return string(msg), true, rawOK
	}
}

// integer reads an optional integer field (DRF IntegerField / PrimaryKeyRelatedField).
func (f *formData) integer(errs *ValidationError, name string) (int64, bool) {
	value, present, bad := f.raw(name)
	if !present {
		return 0, false
	}
	switch bad {
	case rawNotString: // booleans, objects and arrays are not integers either
		errs.add(name, "A valid integer is required.")
		return 0, true
	case rawNull:
		errs.add(name, bad.message())
		return 0, true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil {
		errs.add(name, "A valid integer is required.")
		return 0, true
	}
	return n, true
}

// boolean reads a DRF BooleanField leniently: true, 1, "true", "on", "yes" are true.
func (f *formData) boolean(name string) bool {
	if f.json != nil {
		msg := bytes.TrimSpace(f.json[name])
		if len(msg) > 0 && msg[0] != '"' {
			return string(msg) == "true" || string(msg) == "1"
		}
	}
	value, _, _ := f.raw(name)
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "true", "1", "on", "yes", "y", "t":
		return true
	}
	return false
}
