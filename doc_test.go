package restauth_test

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExportedIdentifiersDocumented holds the packages a user imports to the rule that every
// exported identifier has a doc comment: funcs, methods of exported types, types, and
// consts and vars (a comment on their parenthesised group, or a line comment beside the
// name, counts). It reads the source, not go doc's output, so that it names the file and
// line to fix; list what is missing with
//
//	go test -run TestExportedIdentifiersDocumented -v .
//
// The files are the ones go build would compile here (go/build honours build constraints),
// test files excluded, so a file added by anyone is checked as soon as it exists.
func TestExportedIdentifiersDocumented(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{".", "mail", "memstore", "storetest"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			if missing := undocumentedExports(t, dir); len(missing) > 0 {
				t.Errorf("exported identifiers without a doc comment in %s:\n\t%s", dir, strings.Join(missing, "\n\t"))
			}
		})
	}
}

// undocumentedExports returns "file:line: name" for every exported identifier of the
// package in dir that has no doc comment, sorted; a package without a package comment
// is reported too.
func undocumentedExports(t *testing.T, dir string) []string {
	t.Helper()
	pkg, err := build.ImportDir(dir, 0)
	require.NoError(t, err)
	require.NotEmpty(t, pkg.GoFiles, "no Go files in %s", dir)

	fset := token.NewFileSet()
	type gap struct {
		pos  token.Position
		name string
	}
	var gaps []gap
	report := func(pos token.Pos, name string) { gaps = append(gaps, gap{fset.Position(pos), name}) }
	hasPackageDoc := false
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		require.NoError(t, err)
		if f.Doc != nil {
			hasPackageDoc = true
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() || d.Doc != nil {
					continue
				}
				if d.Recv == nil {
					report(d.Pos(), d.Name.Name)
					continue
				}
				if recv := receiverType(d.Recv.List[0].Type); ast.IsExported(recv) {
					report(d.Pos(), recv+"."+d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
							report(s.Pos(), "type "+s.Name.Name)
						}
					case *ast.ValueSpec:
						if s.Doc != nil || d.Doc != nil || s.Comment != nil {
							continue
						}
						for _, n := range s.Names {
							if n.IsExported() {
								report(n.Pos(), d.Tok.String()+" "+n.Name)
							}
						}
					}
				}
			}
		}
	}
	sort.Slice(gaps, func(i, j int) bool {
		a, b := gaps[i].pos, gaps[j].pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Offset < b.Offset
	})
	var missing []string
	for _, g := range gaps {
		missing = append(missing, fmt.Sprintf("%s:%d: %s", filepath.ToSlash(g.pos.Filename), g.pos.Line, g.name))
	}
	if !hasPackageDoc {
		missing = append(missing, dir+": package comment")
	}
	return missing
}

// receiverType is the name of a method's receiver type: T for T, *T, T[K] and *T[K, V].
func receiverType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// TestUndocumentedExportsFindsGaps keeps the documentation check honest: it must find
// each kind of gap it claims to, and accept each kind of documentation it claims to.
func TestUndocumentedExportsFindsGaps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `// Package p is a fixture.
package p

func F() {}

// G is documented.
func G() {}

type T struct{}

func (T) M() {}

func (*T) N() {}

type u struct{}

func (u) Hidden() {}

// D is documented.
type D[K comparable] struct{}

func (d *D[K]) P() {}

const C = 1

// Group is documented as a whole.
const (
	A = iota
	B
)

var (
	V = 1 // V has a line comment.
	W = 2
)

func unexported() {}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\n\nfunc Untested() {}\n"), 0o600))

	assert.Equal(t, []string{
		"p.go:4: F",
		"p.go:9: type T",
		"p.go:11: T.M",
		"p.go:13: T.N",
		"p.go:22: D.P",
		"p.go:24: const C",
		"p.go:34: var W",
	}, trimDir(undocumentedExports(t, dir), dir))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.go"), []byte("package p\n"), 0o600))
	assert.Equal(t, []string{dir + ": package comment"}, undocumentedExports(t, dir))
}

// trimDir drops dir from the file names of undocumentedExports' lines.
func trimDir(lines []string, dir string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimPrefix(l, filepath.ToSlash(dir)+"/")
	}
	return out
}

// TestREADMEQuotesEmbeddingExample keeps README.md's embedding snippet the one that
// ExampleService_Handler compiles and runs: the example's lines between "// README:embedding"
// and "// README:end", one tab of indentation removed, must appear in the README as a Go
// code block.
func TestREADMEQuotesEmbeddingExample(t *testing.T) {
	t.Parallel()
	assertREADMEQuotes(t, "example_test.go", "embedding")
}

// TestREADMEQuotesTelemetryExample does the same for ExampleTelemetryConfig and the
// README's "Metrics and traces".
func TestREADMEQuotesTelemetryExample(t *testing.T) {
	t.Parallel()
	assertREADMEQuotes(t, "telemetry_test.go", "telemetry")
}

// assertREADMEQuotes checks that the README quotes the lines of file between
// "// README:<marker>" and "// README:end", one tab of indentation removed, as a Go
// code block.
func assertREADMEQuotes(t *testing.T, file, marker string) {
	t.Helper()
	example, err := os.ReadFile(file)
	require.NoError(t, err)
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)

	_, rest, ok := strings.Cut(string(example), "\t// README:"+marker+"\n")
	require.True(t, ok, "%s has no README:%s marker", file, marker)
	snippet, _, ok := strings.Cut(rest, "\t// README:end\n")
	require.True(t, ok, "%s has no README:end marker", file)
	lines := strings.Split(strings.TrimSuffix(snippet, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	block := "```go\n" + strings.Join(lines, "\n") + "\n```\n"
	assert.True(t, strings.Contains(string(readme), block),
		"README.md must quote the %s lines of %s verbatim:\n%s", marker, file, block)
}
