package oatest

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Keys returns the keys of the mapping at path in doc (YAML or JSON), in the order the
// document writes them: kin-openapi's model keeps mappings as Go maps, which forget it,
// and some tests pin an order (a serializer's fields, a document's status codes). A local
// "$ref" met on the way, or at the end, is followed. path steps are mapping keys.
func Keys(doc []byte, path ...string) ([]string, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("oatest: parse document: %w", err)
	}
	if len(root.Content) != 1 {
		return nil, fmt.Errorf("oatest: empty document")
	}
	top := root.Content[0]
	n := top
	for i, step := range path {
		var err error
		if n, err = follow(top, n); err != nil {
			return nil, err
		}
		if n = value(n, step); n == nil {
			return nil, fmt.Errorf("oatest: no %q in the document", strings.Join(path[:i+1], "/"))
		}
	}
	n, err := follow(top, n)
	if err != nil {
		return nil, err
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("oatest: %q is not a mapping", strings.Join(path, "/"))
	}
	keys := make([]string, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i].Value)
	}
	return keys, nil
}

// value is the value of key in the mapping n, or nil.
func value(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// follow resolves n when it is a local reference ({"$ref": "#/a/b"}), repeatedly.
func follow(top, n *yaml.Node) (*yaml.Node, error) {
	for range 32 {
		ref := value(n, "$ref")
		if ref == nil {
			return n, nil
		}
		target, ok := strings.CutPrefix(ref.Value, "#/")
		if !ok {
			return nil, fmt.Errorf("oatest: only local references are followed, not %q", ref.Value)
		}
		n = top
		for _, step := range strings.Split(target, "/") {
			step = strings.NewReplacer("~1", "/", "~0", "~").Replace(step)
			if n = value(n, step); n == nil {
				return nil, fmt.Errorf("oatest: %q does not resolve", ref.Value)
			}
		}
	}
	return nil, fmt.Errorf("oatest: a reference cycle")
}
