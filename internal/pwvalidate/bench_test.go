package pwvalidate

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkPasswordValidate measures the four Django validators on a registration-like
// input (the common-password list is loaded before timing starts).
func BenchmarkPasswordValidate(b *testing.B) {
	v := &djangoDefaults
	attrs := Attributes{Username: "johnsmith", FirstName: "John", LastName: "Smith", Email: "john.smith@example.com"}
	require.Nil(b, v.Validate("Xk9#mQ2$vL7!", attrs))
	for b.Loop() {
		v.Validate("Xk9#mQ2$vL7!", attrs)
	}
}
