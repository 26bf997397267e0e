package headless_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEQuotesHeadlessExample keeps the README's headless snippet the lines that
// ExampleHandler compiles and runs (between "// README:headless" and "// README:end", one
// tab of indentation removed).
func TestREADMEQuotesHeadlessExample(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("example_test.go")
	require.NoError(t, err)
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(example), "\t// README:headless\n")
	require.True(t, ok, "example_test.go has no README:headless marker")
	snippet, _, ok := strings.Cut(rest, "\t// README:end\n")
	require.True(t, ok, "example_test.go has no README:end marker")
	var b strings.Builder
	for line := range strings.Lines(snippet) {
		b.WriteString(strings.TrimPrefix(line, "\t"))
	}
	block := "```go\n" + b.String() + "```\n"
	require.Contains(t, string(readme), block, "README.md must quote ExampleHandler's lines verbatim:\n%s", block)
}
