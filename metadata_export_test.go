package restauth

// RoutePaths291 lists the path patterns the 291 handlers of s serve ({id} and {name} as
// written in the route tables), with APIHandler's root and, when enabled, the magic-link
// routes: a test holds its one-row-per-route table to them.
func RoutePaths291(s *Service) []string {
	d := &api291{svc: s}
	var paths []string
	add := func(prefix string, routes []*route) {
		for _, r := range routes {
			paths = append(paths, prefix+r.pattern)
		}
	}
	add(s.cfg.Prefix, d.authRoutes())
	add(s.cfg.UserPrefix, d.userRoutes())
	add(apiRoot, d.apiRoutes())
	if s.cfg.MagicLink.Enabled {
		add(magicRoot, d.magicRoutes())
	}
	return paths
}
