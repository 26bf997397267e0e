package restauth

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/restauth/restauth/internal/drf"
)

// This file answers OPTIONS as DRF's SimpleMetadata does (with InvenTree's additions of
// InvenTreeMetadata.get_field_info): the view's name and description, the media types,
// and, for a caller allowed to write, "actions" describing the serializer of POST or PUT
// field by field. InvenTree's web UI builds its forms from those actions.
//
// The views' descriptions and fields are tables (one view per route), checked against the
// 291 schema by TestMetadataMatches291Schema: the description is the view's docstring
// (DRF's get_view_description: dedented, stripped), the fields the serializer's.

// Field type names of DRF's SimpleMetadata.label_lookup (and InvenTree's "related field").
const (
	fieldString  = "string"
	fieldEmail   = "email"
	fieldInteger = "integer"
	fieldBoolean = "boolean"
	fieldField   = "field"
	fieldNested  = "nested object"
	fieldRelated = "related field"
)

// viewField is one serializer field, as get_field_info describes it.
type viewField struct {
	name     string
	kind     string // DRF's type name (the constants above)
	required bool
	readOnly bool
	// label is the serializer's label; empty means DRF's default from the name.
	label     string
	helpText  string
	minLength int // 0: unset
	maxLength int // 0: unset
	// hasDefault fields report InvenTree's "default": the serializer field's default or,
	// for a model serializer, the model field's (InvenTreeMetadata.get_serializer_info).
	hasDefault   bool
	defaultValue any
	// model is the related model of an InvenTree "related field" (e.g. "user").
	model string
	// child describes the items of a list field (a ListSerializer's child serializer,
	// bound with no name and so without a label).
	child *viewField
	// children are the fields of a nested serializer.
	children []viewField
}

// view is what OPTIONS tells about a route's view besides its name.
type view struct {
	// description is the view class's docstring, as get_view_description formats it.
	description string
	// generic views have a serializer (DRF's hasattr(view, "get_serializer")): they report
	// actions for POST and PUT, even with no field (InvenTree's e-mail actions).
	generic bool
	fields  []viewField
}

// fieldLabel is DRF's default label of a field: the name with underscores as spaces and
// the first letter upper-case (Field.bind: capfirst(field_name.replace("_", " "))).
func fieldLabel(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// appendJSON writes f as get_field_info orders its keys: type, required, read_only,
// label, help_text, min_length, max_length, child or children, then InvenTree's default
// and the related field's model, api_url and pk_field.
func (f *viewField) appendJSON(b *bytes.Buffer) {
	label := f.label
	if label == "" {
		label = fieldLabel(f.name)
	}
	b.WriteString(`{"type":`)
	writeJSONValue(b, f.kind)
	b.WriteString(`,"required":`)
	writeJSONValue(b, f.required)
	b.WriteString(`,"read_only":`)
	writeJSONValue(b, f.readOnly)
	if label != "" { // a list's child is bound with no name, hence no label
		b.WriteString(`,"label":`)
		writeJSONValue(b, label)
	}
	if f.helpText != "" {
		b.WriteString(`,"help_text":`)
		writeJSONValue(b, f.helpText)
	}
	if f.minLength > 0 {
		b.WriteString(`,"min_length":`)
		writeJSONValue(b, f.minLength)
	}
	if f.maxLength > 0 {
		b.WriteString(`,"max_length":`)
		writeJSONValue(b, f.maxLength)
	}
	switch {
	case f.child != nil:
		b.WriteString(`,"child":`)
		f.child.appendJSON(b)
	case len(f.children) > 0:
		b.WriteString(`,"children":`)
		appendFieldsJSON(b, f.children)
	}
	if f.hasDefault {
		b.WriteString(`,"default":`)
		writeJSONValue(b, f.defaultValue)
	}
	if f.model != "" {
		b.WriteString(`,"model":`)
		writeJSONValue(b, f.model)
		b.WriteString(`,"api_url":`)
		writeJSONValue(b, "/api/"+f.model+"/")
		b.WriteString(`,"pk_field":"pk"`)
	}
	b.WriteByte('}')
}

// appendFieldsJSON writes a serializer's fields as an object in the serializer's order.
func appendFieldsJSON(b *bytes.Buffer, fields []viewField) {
	b.WriteByte('{')
	for i := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONValue(b, fields[i].name)
		b.WriteByte(':')
		fields[i].appendJSON(b)
	}
	b.WriteByte('}')
}

// writeJSONValue appends a string, number or boolean; these cannot fail to encode.
func writeJSONValue(b *bytes.Buffer, v any) {
	enc, _ := drf.MarshalJSON(v)
	b.Write(enc)
}

// routeMetadata is DRF's SimpleMetadata answer to OPTIONS, encoded in its key order.
type routeMetadata struct {
	name        string
	description string
	// actions lists the write methods the caller may use with their serializer's fields;
	// nil when there are none (DRF then leaves the key out).
	actions []metadataAction
}

// metadataAction is one entry of "actions": a method and its serializer's fields.
type metadataAction struct {
	method string
	fields []viewField
}

// MarshalJSON encodes the metadata with DRF's keys in DRF's order.
func (m routeMetadata) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"name":`)
	writeJSONValue(&b, m.name)
	b.WriteString(`,"description":`)
	writeJSONValue(&b, m.description)
	b.WriteString(`,"renders":["application/json"]`)
	b.WriteString(`,"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"]`)
	if len(m.actions) > 0 {
		b.WriteString(`,"actions":{`)
		for i, a := range m.actions {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONValue(&b, a.method)
			b.WriteByte(':')
			appendFieldsJSON(&b, a.fields)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// metadataFor is the OPTIONS answer of rte for the caller. DRF's determine_actions
// describes POST and PUT when the view allows them and check_permissions passes for the
// caller; the router has already refused anonymous callers of protected routes (401,
// before OPTIONS is answered), so the caller may write exactly when the route is public
// or the caller is authenticated.
func metadataFor(rte *route, auth requestAuth) routeMetadata {
	m := routeMetadata{name: rte.name}
	v := rte.view
	if v == nil {
		return m
	}
	m.description = v.description
	if !v.generic || !rte.public && auth.user == nil {
		return m
	}
	for _, method := range rte.methods {
		if method == http.MethodPost || method == http.MethodPut {
			m.actions = append(m.actions, metadataAction{method, v.fields})
		}
	}
	return m
}

// withViews gives each route its view from views, by pattern.
func withViews(routes []*route, views map[string]*view) []*route {
	for _, r := range routes {
		r.view = views[r.pattern]
	}
	return routes
}

// Field sets shared by several views.
var (
	passwordPairFields = []viewField{
		{name: "new_password1", kind: fieldString, required: true, maxLength: maxPasswordLength},
		{name: "new_password2", kind: fieldString, required: true, maxLength: maxPasswordLength},
	}
)

// emailActionView is an InvenTree e-mail action: a generic view with an empty serializer.
func emailActionView(docstring string) *view {
	return &view{description: docstring, generic: true, fields: []viewField{}}
}

// authViews are the views of the /api/auth/ routes (dj-rest-auth's, allauth's and
// InvenTree's), by route pattern. Django views that are not DRF ones (the pages and the
// social browser flows) have none: OPTIONS tells only their name.
func (d *api291) authViews() map[string]*view {
	passwordChange := passwordPairFields
	if !d.svc.cfg.AllowPasswordChangeWithoutOld {
		// dj-rest-auth's OLD_PASSWORD_FIELD_ENABLED adds old_password first.
		passwordChange = append([]viewField{{name: "old_password", kind: fieldString, required: true, maxLength: maxPasswordLength}}, passwordPairFields...)
	}
	return map[string]*view{
		"login/": {description: "API view for logging in via API.", generic: true, fields: []viewField{
			{name: "username", kind: fieldString},
			{name: "email", kind: fieldEmail},
			{name: "password", kind: fieldString, required: true},
		}},
		// dj-rest-auth's LogoutView is a plain APIView: no serializer, no actions.
		"logout/": {description: "API view for logging out via API."},
		"user/": {description: "Reads and updates UserModel fields\nAccepts GET, PUT, PATCH methods.\n\n" +
			"Default accepted fields: username, first_name, last_name\nDefault display fields: pk, username, email, first_name, last_name\n" +
			"Read-only fields: pk, email\n\nReturns UserModel fields.", generic: true, fields: []viewField{
			{name: "pk", kind: fieldInteger, readOnly: true, label: "ID"},
			{name: "username", kind: fieldString, required: true, maxLength: maxUsernameLength,
				helpText: "Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."},
			{name: "email", kind: fieldEmail, readOnly: true, label: "Email address"},
			{name: "first_name", kind: fieldString, maxLength: 150},
			{name: "last_name", kind: fieldString, maxLength: 150},
		}},
		"password/change/": {description: "Calls Django Auth SetPasswordForm save method.\n\n" +
			"Accepts the following POST parameters: new_password1, new_password2\nReturns the success/fail message.",
			generic: true, fields: passwordChange},
		"registration/": {description: "Registers a new user.\n\nAccepts the following POST parameters: username, email, password1, password2.",
			generic: true, fields: []viewField{
				{name: "username", kind: fieldString, required: true, minLength: 1, maxLength: maxUsernameLength},
				{name: "email", kind: fieldEmail},
				{name: "password1", kind: fieldString, required: true},
				{name: "password2", kind: fieldString, required: true},
			}},
		// The schema shows the get method's docstring; DRF reports the class's.
		"providers/": {description: "List of available social providers.", generic: true},
		"password/reset/": {description: "Calls Django Auth PasswordResetForm save method.\n\n" +
			"Accepts the following POST parameters: email\nReturns the success/fail message.", generic: true, fields: []viewField{
			{name: "email", kind: fieldEmail, required: true},
		}},
		"password/reset/confirm/": {description: "Password reset e-mail link is confirmed, therefore\nthis resets the user's password.\n\n" +
			"Accepts the following POST parameters: token, uid,\n    new_password1, new_password2\nReturns the success/fail message.",
			generic: true, fields: append(append([]viewField(nil), passwordPairFields...),
				viewField{name: "uid", kind: fieldString, required: true},
				viewField{name: "token", kind: fieldString, required: true})},
		"registration/verify-email/": {description: "Verifies the email associated with the provided key.\n\nAccepts the following POST parameter: key.",
			generic: true, fields: []viewField{{name: "key", kind: fieldString, required: true}}},
		"registration/resend-email/": {description: "Resends another email to an unverified email.\n\nAccepts the following POST parameter: email.",
			generic: true, fields: []viewField{{name: "email", kind: fieldEmail}}},
		"emails/": {description: "List of registered email addresses for current users.", generic: true, fields: []viewField{
			{name: "id", kind: fieldInteger, readOnly: true, label: "ID"},
			{name: "email", kind: fieldEmail, required: true, label: "Email address", maxLength: 254},
			{name: "verified", kind: fieldBoolean, hasDefault: true, defaultValue: false},
			{name: "primary", kind: fieldBoolean, hasDefault: true, defaultValue: false},
			{name: "user", kind: fieldRelated, required: true, model: "user"},
		}},
		// InvenTree's e-mail actions post an empty serializer; the schema shows their post
		// method's docstring, DRF the classes'.
		"emails/{id}/primary/": emailActionView("Make an email for a currently logged in user primary."),
		"emails/{id}/verify/":  emailActionView("Re-verify an email for a currently logged in user."),
		"emails/{id}/remove/":  emailActionView("Remove an email for a currently logged in user."),
		"social/":              {description: "List SocialAccounts for the currently logged in user", generic: true},
		"social/{id}/disconnect/": {description: "Disconnect SocialAccount from remote service for\nthe currently logged in user",
			generic: true, fields: []viewField{
				{name: "access_token", kind: fieldString},
				{name: "code", kind: fieldString},
				{name: "id_token", kind: fieldString},
			}},
		// restauth's own MFA routes, described like the rest.
		"mfa/totp/": {description: "TOTP enrolment of the current user: GET reports it (and starts a pending secret),\n" +
			"POST activates it with a code, DELETE deactivates it after re-authentication.", generic: true, fields: []viewField{
			{name: "code", kind: fieldString, required: true},
		}},
		"mfa/recovery-codes/": {description: "Recovery codes of the current user: GET counts them, POST replaces them after\nre-authentication.",
			generic: true, fields: []viewField{
				{name: "code", kind: fieldString},
				{name: "password", kind: fieldString},
			}},
	}
}

// userViews are the views of the /api/user/ routes (InvenTree's), by route pattern.
func (d *api291) userViews() map[string]*view {
	token := &view{description: "Return an API token if the user is authenticated.\n\n" +
		"- If the user already has a matching token, delete it and create a new one\n" +
		"- Existing tokens are *never* exposed again via the API\n" +
		"- Once the token is provided, it can be used for auth until it expires"}
	tokens := &view{description: "List of registered tokens for current users.", generic: true}
	return map[string]*view{
		"me/": {description: "Detail endpoint for current user.", generic: true, fields: []viewField{
			{name: "pk", kind: fieldInteger, readOnly: true, label: "ID"},
			{name: "username", kind: fieldString, required: true, helpText: "Username"},
			{name: "first_name", kind: fieldString, required: true, helpText: "First name of the user"},
			{name: "last_name", kind: fieldString, required: true, helpText: "Last name of the user"},
			{name: "email", kind: fieldEmail, required: true, helpText: "Email address of the user"},
			{name: "groups", kind: fieldField, readOnly: true, child: &viewField{
				kind: fieldNested, readOnly: true, children: []viewField{
					{name: "pk", kind: fieldInteger, readOnly: true, label: "ID"},
					{name: "name", kind: fieldString, required: true, maxLength: 150},
				}}},
			{name: "is_staff", kind: fieldBoolean, required: true, label: "Staff", helpText: "Does this user have staff permissions", hasDefault: true, defaultValue: false},
			{name: "is_superuser", kind: fieldBoolean, required: true, label: "Superuser", helpText: "Is this user a superuser", hasDefault: true, defaultValue: false},
			{name: "is_active", kind: fieldBoolean, required: true, label: "Active", helpText: "Is this user account active", hasDefault: true, defaultValue: true},
		}},
		"roles/":       {description: "API endpoint which lists the available role permissions for the current user.\n\n(Requires authentication)"},
		"token/":       token,
		"me/token/":    token,
		"tokens/":      tokens,
		"tokens/{id}/": tokens,
	}
}

// apiViews are the views of the /api/ root.
func (d *api291) apiViews() map[string]*view {
	return map[string]*view{"": {description: "Serve current server information."}}
}

// magicViews are the views of InvenTree's magic-link routes below /api/email/.
func (d *api291) magicViews() map[string]*view {
	return map[string]*view{
		"generate/": {description: "View to send a simple login link.", generic: true, fields: []viewField{
			{name: "email", kind: fieldString, required: true},
		}},
	}
}
