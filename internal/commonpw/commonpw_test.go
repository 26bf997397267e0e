package commonpw

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestListMatchesDjango(t *testing.T) {
	t.Parallel()
	// Python: len({x.strip() for x in gzip.open(path, "rt", encoding="utf-8")}) on the
	// file Debian's python3-django 3.2.25 ships gives 19727.
	assert.Equal(t, 19727, Len())
	for _, pw := range []string{"password", "123456", "bigpimpin1", "mewtwo", "sandy123"} {
		assert.True(t, Contains(pw), pw)
	}
	for _, pw := range []string{"", "Password", " password", "correct horse battery staple"} {
		assert.False(t, Contains(pw), "%q", pw)
	}
}
