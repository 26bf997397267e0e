package restauth

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDialect291IsThin holds the 291 dialect files (http_291_*.go) to the exported Service
// API (issue #12: "operations own every rule, dialects are thin adapters"). A dialect file
// must not
//
//  1. call an unexported member of the Service (d.svc.login(...), s.audit(...)), nor take
//     an unexported Service method as a value (f := d.svc.issueToken);
//  2. touch a Store (any selector .store);
//  3. declare methods on Service: dialect files hold api291 methods and plain functions.
//
// Reading Config (d.svc.cfg.X) and using the session manager (d.svc.sessions.X(...)) stay
// allowed: they are field reads, not calls of the Service, and sessions are the dialect's.
//
// The check is syntactic (go/ast, no type information) and that suffices because of how
// a dialect file can reach the Service at all: api291 holds nothing but svc, so the
// Service is an expression ending in .svc (d.svc, or the router's rt.svc), or a name the
// same function binds to one (a *Service receiver or parameter, a variable assigned from
// a Service expression); checkThin tracks both. A Store is reachable only through the
// Service's unexported store field (the Service has no exported accessor), so every Store
// access in a dialect file contains the selector .store. What go/ast cannot see is a
// plain function in another file doing rule work for a handler; such a helper would be
// HTTP code outside the dialect files and is left to review.
func TestDialect291IsThin(t *testing.T) {
	t.Parallel()
	unexported := unexportedServiceMethods(t)
	require.Contains(t, unexported, "audit", "the Service's methods were not found")

	t.Run("dialect files", func(t *testing.T) {
		t.Parallel()
		paths, err := filepath.Glob("http_291_*.go")
		require.NoError(t, err)
		fset := token.NewFileSet()
		checked := 0
		for _, path := range paths {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			assert.Empty(t, checkThin(fset, f, unexported), "%s is not thin", path)
			checked++
		}
		require.NotZero(t, checked, "no http_291_*.go file found")
	})

	// The checker must also fail: each snippet breaks the rule once (want: the one
	// report's words) or keeps it (want "").
	t.Run("checker reports", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			body string
			want string
		}{
			{"unexported call via svc", `func (d *api291) h() { d.svc.login(nil) }`, "unexported Service member login"},
			{"unexported call via router", `func (rt *router) h() { rt.svc.audit(nil) }`, "unexported Service member audit"},
			{"func field call", `func (d *api291) h() { _ = d.svc.now() }`, "unexported Service member now"},
			{"alias of svc", `func (d *api291) h() { s := d.svc; s.audit(nil) }`, "unexported Service member audit"},
			{"alias of alias", `func (d *api291) h() { var a = d.svc; b := a; b.audit(nil) }`, "unexported Service member audit"},
			{"parenthesised", `func (d *api291) h() { (d.svc).audit(nil) }`, "unexported Service member audit"},
			{"Service parameter", `func h(s *Service) error { return s.checkVerified(nil, nil) }`, "unexported Service member checkVerified"},
			{"in a closure", `func (d *api291) h() { f := func(s *Service) { s.audit(nil) }; _ = f }`, "unexported Service member audit"},
			{"method value", `func (d *api291) h() { f := d.svc.issueToken; _ = f }`, "unexported Service method issueToken as a value"},
			{"store call", `func (d *api291) h() { d.svc.store.UserByID(nil, 1) }`, "Store access"},
			{"store value", `func (d *api291) h() { st := d.svc.store; _ = st }`, "Store access"},
			{"Service method", `func (s *Service) handleX() {}`, "method handleX on Service"},
			{"Service value method", `func (s Service) handleX() {}`, "method handleX on Service"},
			{"exported operation", `func (d *api291) h() { d.svc.Login(nil, LoginRequest{}) }`, ""},
			{"exported method value", `func (d *api291) h() { f := d.svc.SetPrimaryEmail; _ = f }`, ""},
			{"config read", `func (d *api291) h() bool { return d.svc.cfg.LoginByEmail }`, ""},
			{"sessions", `func (d *api291) h() { d.svc.sessions.Destroy(nil) }`, ""},
			{"dialect helpers", `func (d *api291) h() { d.decode(nil, nil); writeJSON(nil, 200, nil) }`, ""},
			{"other receivers", `func (d *api291) h(f *formData) { f.char(nil, charField{}); s := "x"; _ = s }`, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				fset := token.NewFileSet()
				f, err := parser.ParseFile(fset, "snippet.go", "package restauth\n"+tt.body, parser.SkipObjectResolution)
				require.NoError(t, err)
				problems := checkThin(fset, f, unexported)
				if tt.want == "" {
					assert.Empty(t, problems)
					return
				}
				require.Len(t, problems, 1, "%v", problems)
				assert.Contains(t, problems[0], tt.want)
			})
		}
	})
}

// unexportedServiceMethods returns the names of the unexported methods declared on
// Service in the package's non-test files.
func unexportedServiceMethods(t *testing.T) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	fset := token.NewFileSet()
	names := make(map[string]bool)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv != nil && isServiceType(fd.Recv.List[0].Type) && !fd.Name.IsExported() {
				names[fd.Name.Name] = true
			}
		}
	}
	return names
}

// checkThin returns the rule breaks in one dialect file (see TestDialect291IsThin), each
// with its position. unexported names the unexported methods of Service, so that one
// taken as a value is told from a field read such as d.svc.cfg.
func checkThin(fset *token.FileSet, f *ast.File, unexported map[string]bool) []string {
	var problems []string
	report := func(n ast.Node, format string, args ...any) {
		problems = append(problems, fset.Position(n.Pos()).String()+": "+fmt.Sprintf(format, args...))
	}
	for _, decl := range f.Decls {
		if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv != nil && isServiceType(fd.Recv.List[0].Type) {
			report(fd, "method %s on Service: dialect files hold api291 methods only", fd.Name.Name)
		}
		svc := serviceNames(decl)
		called := make(map[*ast.SelectorExpr]bool)
		ast.Inspect(decl, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok && isServiceExpr(sel.X, svc) && !sel.Sel.IsExported() {
					called[sel] = true
					report(n, "call of unexported Service member %s: call an exported operation", sel.Sel.Name)
				}
			case *ast.SelectorExpr:
				switch {
				case n.Sel.Name == "store":
					report(n, "Store access: the Store is the operations' only")
				case !called[n] && unexported[n.Sel.Name] && isServiceExpr(n.X, svc):
					report(n, "unexported Service method %s as a value: use an exported operation", n.Sel.Name)
				}
			}
			return true
		})
	}
	return problems
}

// isServiceType reports whether a type expression is Service or *Service.
func isServiceType(e ast.Expr) bool {
	if star, ok := e.(*ast.StarExpr); ok {
		e = star.X
	}
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "Service"
}

// isServiceExpr reports whether e denotes the Service: a selector .svc (the only field of
// api291, and the router's), or a name bound to the Service (svc, see serviceNames).
func isServiceExpr(e ast.Expr, svc map[string]bool) bool {
	e = ast.Unparen(e)
	if star, ok := e.(*ast.StarExpr); ok {
		e = ast.Unparen(star.X)
	}
	switch e := e.(type) {
	case *ast.SelectorExpr:
		return e.Sel.Name == "svc"
	case *ast.Ident:
		return svc[e.Name]
	}
	return false
}

// serviceNames returns the names decl binds to the Service: receivers, parameters and
// variables declared as Service or *Service, and variables assigned from a Service
// expression (to a fixed point, so aliases of aliases count). Scopes are ignored: a
// shadowing name stays bound, which can only add reports, never hide one.
func serviceNames(decl ast.Decl) map[string]bool {
	svc := make(map[string]bool)
	bindAll := func(idents []*ast.Ident) (grew bool) {
		for _, id := range idents {
			if id.Name != "_" && !svc[id.Name] {
				svc[id.Name], grew = true, true
			}
		}
		return grew
	}
	for grew := true; grew; {
		grew = false
		ast.Inspect(decl, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field: // receivers, parameters and results
				if isServiceType(n.Type) && bindAll(n.Names) {
					grew = true
				}
			case *ast.ValueSpec:
				if n.Type != nil && isServiceType(n.Type) && bindAll(n.Names) {
					grew = true
				}
				for i, v := range n.Values {
					if i < len(n.Names) && isServiceExpr(v, svc) && bindAll(n.Names[i:i+1]) {
						grew = true
					}
				}
			case *ast.AssignStmt:
				if len(n.Lhs) != len(n.Rhs) {
					break
				}
				for i, rhs := range n.Rhs {
					if id, ok := n.Lhs[i].(*ast.Ident); ok && isServiceExpr(rhs, svc) && bindAll([]*ast.Ident{id}) {
						grew = true
					}
				}
			}
			return true
		})
	}
	return svc
}
