package restauth

import (
	"errors"
	"net/http"

	"github.com/restauth/restauth/internal/drf"
	"github.com/restauth/restauth/internal/form"
)

// requestError is a problem with the request as a whole, answered with its status and
// {"detail": …}.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string { return e.detail }

// formData is a decoded request body; the handlers read its fields with DRF's field
// semantics (internal/drf).
type formData = drf.Form

// charField describes a DRF CharField (or EmailField) as the serializers declare it
// (internal/drf).
type charField = drf.CharField

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
	return &formData{JSON: body.JSON, Values: body.Values}, nil
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
		values[spec.Name], _ = f.Char(errs.drfFields(), spec)
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	return values, nil
}
