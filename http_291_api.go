package restauth

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/restauth/restauth/internal/drf"
	"github.com/restauth/restauth/internal/mailrender"
)

// This file serves InvenTree's API root below /api/: GET /api/, the server information
// every InvenTree client reads first, and the JSON 404 of every path under /api/ that no
// route serves (the reference's NotFoundView). Service.APIHandler (handler.go) mounts it
// together with the /api/auth/ and /api/user/ routers.

// apiRoot is where APIHandler is mounted, as in InvenTree.
const apiRoot = "/api/"

// serverInfoJSON is InvenTree's InfoView answer at API 291. restauth has no plugins and
// no system-health report, so those fields hold what an InvenTree without them reports,
// and the staff-only fields are null, as the reference answers anonymous callers. It
// needs no background worker (mail goes out in-process), so worker_running is true with
// nothing pending: the web UI warns staff when it is false.
type serverInfoJSON struct {
	Server                 string        `json:"server"`
	Version                string        `json:"version"`
	Instance               string        `json:"instance"`
	APIVersion             int           `json:"apiVersion"`
	WorkerRunning          bool          `json:"worker_running"`
	WorkerCount            int           `json:"worker_count"`
	WorkerPendingTasks     int           `json:"worker_pending_tasks"`
	PluginsEnabled         bool          `json:"plugins_enabled"`
	PluginsInstallDisabled bool          `json:"plugins_install_disabled"`
	ActivePlugins          []struct{}    `json:"active_plugins"`
	EmailConfigured        bool          `json:"email_configured"`
	DebugMode              bool          `json:"debug_mode"`
	DockerMode             bool          `json:"docker_mode"`
	DefaultLocale          string        `json:"default_locale"`
	Customize              customizeJSON `json:"customize"`
	SystemHealth           *bool         `json:"system_health"`
	Database               *string       `json:"database"`
	Platform               *string       `json:"platform"`
	Installer              *string       `json:"installer"`
	Target                 *string       `json:"target"`
	DjangoAdmin            *string       `json:"django_admin"`
}

// customizeJSON is InfoView's "customize": no custom logo, splash or messages.
type customizeJSON struct {
	Logo          *string `json:"logo"`
	Splash        *string `json:"splash"`
	LoginMessage  *string `json:"login_message"`
	NavbarMessage *string `json:"navbar_message"`
}

// serverInfo is GET /api/. "server" is Config.ServerName (InvenTree's clients look for
// "InvenTree"), "instance" the site's name, "version" restauth's own.
func (d *api291) serverInfo(w http.ResponseWriter, r *http.Request) error {
	instance := d.svc.cfg.SiteName
	if instance == "" {
		instance = mailrender.SiteHost(d.svc.cfg.SiteURL)
	}
	// The log mailer delivers nothing to users: the UI should not promise e-mail then.
	_, logOnly := d.svc.cfg.Mail.Mailer.(logMailer)
	drf.WriteJSON(w, http.StatusOK, serverInfoJSON{
		Server:                 d.svc.cfg.ServerName,
		Version:                Version,
		Instance:               instance,
		APIVersion:             APIVersion,
		WorkerRunning:          true,
		PluginsInstallDisabled: true,
		ActivePlugins:          []struct{}{},
		EmailConfigured:        !logOnly,
		DefaultLocale:          "en",
	})
	return nil
}

// apiRoutes are the routes of the API root's own router: GET /api/ only, so that every
// other path below /api/ gets the router's JSON 404 (after authentication, as DRF does).
// The server information stays readable to a user who has yet to enrol in a required
// second factor: the web UI reads it before anything else.
func (d *api291) apiRoutes() []*route {
	return []*route{
		{pattern: "", methods: []string{http.MethodGet}, public: true, beforeMFA: true, name: "Info", handle: d.serverInfo},
	}
}

// apiMount is one handler of apiMux, serving every path that starts with prefix.
type apiMount struct {
	prefix  string
	handler http.Handler
}

// apiMux sends a request below /api/ to the mount whose prefix is the longest one the
// path starts with, and anything else to rest (the API root's router).
type apiMux struct {
	mounts []apiMount
	rest   http.Handler
}

func newAPIMux(rest http.Handler, mounts ...apiMount) *apiMux {
	slices.SortStableFunc(mounts, func(a, b apiMount) int { return cmp.Compare(len(b.prefix), len(a.prefix)) })
	return &apiMux{mounts: mounts, rest: rest}
}

func (m *apiMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, mt := range m.mounts {
		if strings.HasPrefix(r.URL.Path, mt.prefix) {
			mt.handler.ServeHTTP(w, r)
			return
		}
	}
	m.rest.ServeHTTP(w, r)
}
