package drf

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCharField(t *testing.T) {
	t.Parallel()
	f := &Form{JSON: map[string]json.RawMessage{
		"name": json.RawMessage(`"  bob  "`), "null": json.RawMessage(`null`), "bool": json.RawMessage(`true`),
		"num": json.RawMessage(`12`), "long": json.RawMessage(`"abcdef"`), "blank": json.RawMessage(`" "`),
		"email": json.RawMessage(`"not-an-address"`),
	}}
	var errs Errors
	v, present := f.Char(&errs, CharField{Name: "name"})
	assert.Equal(t, "bob", v)
	assert.True(t, present)
	v, _ = f.Char(&errs, CharField{Name: "num"})
	assert.Equal(t, "12", v, "numbers become their text")
	f.Char(&errs, CharField{Name: "missing", Required: true})
	f.Char(&errs, CharField{Name: "null"})
	f.Char(&errs, CharField{Name: "bool"})
	f.Char(&errs, CharField{Name: "long", MaxLen: 3})
	f.Char(&errs, CharField{Name: "blank"})
	f.Char(&errs, CharField{Name: "email", Email: true})
	assert.Equal(t, Errors{
		"missing": {MsgRequired},
		"null":    {MsgNull},
		"bool":    {MsgNotString},
		"long":    {"Ensure this field has no more than 3 characters."},
		"blank":   {MsgBlank},
		"email":   {MsgInvalidEmail},
	}, errs)
}

func TestIntegerAndBoolean(t *testing.T) {
	t.Parallel()
	f := &Form{Values: url.Values{"n": {"1", " 7 "}, "bad": {"x"}, "on": {"on"}, "off": {"no"}}}
	var errs Errors
	n, present := f.Integer(&errs, "n")
	assert.Equal(t, int64(7), n, "the last value counts")
	assert.True(t, present)
	_, present = f.Integer(&errs, "missing")
	assert.False(t, present)
	f.Integer(&errs, "bad")
	assert.Equal(t, Errors{"bad": {"A valid integer is required."}}, errs)
	assert.True(t, f.Boolean("on"))
	assert.False(t, f.Boolean("off"))
	j := &Form{JSON: map[string]json.RawMessage{"t": json.RawMessage(`true`), "one": json.RawMessage(`1`), "s": json.RawMessage(`"yes"`), "f": json.RawMessage(`false`)}}
	assert.True(t, j.Boolean("t"))
	assert.True(t, j.Boolean("one"))
	assert.True(t, j.Boolean("s"))
	assert.False(t, j.Boolean("f"))
}

func TestFieldErrorsJSONOrder(t *testing.T) {
	t.Parallel()
	got := FieldErrorsJSON(map[string][]string{NonFieldErrors: {"x"}, "zeta": {"z"}, "password1": {"p"}, "username": {"u", "v"}, "alpha": {"a"}})
	assert.Equal(t, `{"username":["u","v"],"password1":["p"],"alpha":["a"],"zeta":["z"],"non_field_errors":["x"]}`, string(got))
}
