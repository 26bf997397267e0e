package fold

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStringAgreesWithEqualFold(t *testing.T) {
	t.Parallel()
	pairs := [][2]string{
		{"jess", "JESS"}, {"jess", "je\u017fs"}, {"kim", "\u212aim"}, {"straße", "STRAßE"},
		{"Σίσυφος", "ΣΊΣΥΦΟΣ"}, {"alice@example.com", "Alice@Example.COM"}, {"a", "b"}, {"ı", "i"},
	}
	for _, p := range pairs {
		assert.Equal(t, strings.EqualFold(p[0], p[1]), String(p[0]) == String(p[1]), "%q %q", p[0], p[1])
	}
	assert.Equal(t, "plain", String("plain"))
}
