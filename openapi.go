package restauth

import (
	_ "embed"
	"slices"
)

//go:embed openapi.yaml
var openAPIDocument []byte

// OpenAPI returns restauth's OpenAPI 3.0.3 document (YAML): every route Service.Handler and
// Service.UserHandler serve under /api/auth/ and /api/user/, plus the example server's
// GET /api/, and every route of the headless package's handler under /_allauth/{client}/v1/,
// with the bodies, status codes and error shapes restauth actually answers.
// Paths in the document assume the default mount points. Each call returns a fresh copy
// that the caller may modify; serve it, for example, at /api/schema/.
func OpenAPI() []byte {
	return slices.Clone(openAPIDocument)
}
