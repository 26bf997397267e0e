package restauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionConfig configures the browser login sessions (the "sessionid" cookie). restauth
// builds its own scs.SessionManager from it, so every rule that makes a session safe — the
// cookie's name and flags, and the hashing of session ids at rest — holds whatever the host
// passes; Service.Sessions returns the manager.
type SessionConfig struct {
	// Store keeps the session data. Default: scs's in-memory store, which loses sessions on
	// restart and shares none between instances; sqlitestore's and pgstore's SessionStore,
	// or an scs Redis store, keep them in a shared database. The store only ever sees the
	// SHA-256 of a session id, never the id the browser holds, so a copy of the store
	// (a backup, a read-only SQL injection) opens no session.
	Store scs.Store
	// Lifetime is the absolute lifetime of a session, however active. Default 14 days
	// (Django's SESSION_COOKIE_AGE).
	Lifetime time.Duration
	// IdleTimeout ends a session that has not been used for this long. Default 0: no idle
	// timeout, only Lifetime.
	IdleTimeout time.Duration
	// Domain is the cookie's Domain attribute, to share the session with sibling hosts
	// (e.g. "example.com"). Default "": the cookie goes back only to the host that set it,
	// which is the safer choice.
	Domain string
	// Path is the cookie's Path attribute. Default "/": the host application's own routes
	// authenticate with the same session through Service.Middleware.
	Path string
	// SameSite is the cookie's SameSite attribute: http.SameSiteLaxMode (the default, which
	// keeps the session on a provider's redirect back and on links from mail),
	// http.SameSiteStrictMode, or http.SameSiteNoneMode (only with an https SiteURL: browsers
	// drop a SameSite=None cookie that is not Secure).
	SameSite http.SameSite
}

// sessionCookieName is Django's cookie name, which InvenTree clients look for.
const sessionCookieName = "sessionid"

// sessionRetryAfter is the Retry-After, in seconds, of the 503 answered when the session
// store fails: long enough not to hammer a store that is restarting.
const sessionRetryAfter = "5"

// msgServiceUnavailable is DRF's ServiceUnavailable detail.
const msgServiceUnavailable = "Service temporarily unavailable, try again later."

// newSessionManager applies the defaults to c (New's copy of the host's Config) and builds
// the session manager. Nothing of the host's is changed: c is a copy, and the manager is
// new.
func newSessionManager(c *SessionConfig, site *url.URL, log *slog.Logger) (*scs.SessionManager, error) {
	defaultDuration(&c.Lifetime, 14*24*time.Hour)
	if c.IdleTimeout < 0 {
		return nil, fmt.Errorf("%w: Sessions.IdleTimeout must not be negative", ErrConfig)
	}
	defaultString(&c.Path, "/")
	// url.Parse already lowers the scheme; EqualFold keeps "HTTPS://…" Secure even if the
	// URL reaches here some other way.
	secure := strings.EqualFold(site.Scheme, "https")
	switch c.SameSite {
	case 0:
		c.SameSite = http.SameSiteLaxMode
	case http.SameSiteLaxMode, http.SameSiteStrictMode:
	case http.SameSiteNoneMode:
		if !secure {
			return nil, fmt.Errorf("%w: Sessions.SameSite None needs an https SiteURL", ErrConfig)
		}
	default:
		// SameSiteDefaultMode sends no attribute, which some browsers read as None.
		return nil, fmt.Errorf("%w: Sessions.SameSite must be Lax, Strict or None", ErrConfig)
	}
	probe := http.Cookie{Name: sessionCookieName, Value: "x", Domain: c.Domain, Path: c.Path}
	if !strings.HasPrefix(c.Path, "/") || probe.Valid() != nil {
		return nil, fmt.Errorf("%w: Sessions.Domain %q or Sessions.Path %q is not a valid cookie attribute", ErrConfig, c.Domain, c.Path)
	}

	// scs.New always makes an in-memory store with a cleanup goroutine, which cannot be
	// stopped safely before it has started; it is the default store, so that no second one
	// runs. (With a host store it stays, idle: scs builds no manager without it.)
	sm := scs.New()
	if c.Store == nil {
		c.Store = sm.Store
	}
	sm.Store = c.Store
	sm.Lifetime = c.Lifetime
	sm.IdleTimeout = c.IdleTimeout
	// The store keys sessions by the SHA-256 of their id, so that what the store holds
	// cannot be sent back as a cookie.
	sm.HashTokenInStore = true
	sm.Cookie = scs.SessionCookie{
		Name:     sessionCookieName,
		Domain:   c.Domain,
		HttpOnly: true,
		Path:     c.Path,
		SameSite: c.SameSite,
		Secure:   secure,
		Persist:  true,
	}
	sm.ErrorFunc = sessionErrorFunc(log)
	// gob's per-call type encoders were most of a session check's time; sessionCodec
	// still reads the gob blobs of sessions saved before it.
	sm.Codec = sessionCodec{}
	return sm, nil
}

// Sessions returns the session manager, for a host app that wants to read or store its own
// values in the same session. Its settings are restauth's; change them through
// Config.Sessions, not on the manager. The store holds hashed session ids, so Iterate can
// only read sessions: a change it makes does not reach the stored session.
func (s *Service) Sessions() *scs.SessionManager { return s.sessions }

// loadAndSave loads the request's session and saves it before the first byte of the
// answer, as scs's LoadAndSave does, with two differences. A failed save is answered alone
// (ErrorFunc's 503; the handler's own status and body are dropped, where scs would let
// them follow the error page). And a handler can save the session itself first
// (api291.saveSession), so that a login learns the store failed while it can still take
// back the token it issued, instead of after its answer is on its way.
func (s *Service) loadAndSave(next http.Handler) http.Handler {
	sm := s.sessions
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Cookie")
		var token string
		if c, err := r.Cookie(sm.Cookie.Name); err == nil {
			token = c.Value
		}
		ctx, err := sm.Load(r.Context(), token)
		if err != nil {
			sm.ErrorFunc(w, r, err)
			return
		}
		sw := &sessionWriter{ResponseWriter: w, sm: sm}
		sw.r = r.WithContext(context.WithValue(ctx, sessionWriterKey{}, sw))
		next.ServeHTTP(sw, sw.r)
		sw.saveOnce()
	})
}

// sessionWriterKey is the context key of the request's sessionWriter.
type sessionWriterKey struct{}

// sessionWriter saves the session at the handler's first WriteHeader or Write (or after
// the handler, if it wrote nothing), once. When that save fails, ErrorFunc answers and the
// handler's writes are dropped, so the client gets one well-formed 503.
type sessionWriter struct {
	http.ResponseWriter
	r  *http.Request
	sm *scs.SessionManager
	// saved is set once the session was saved, or its save was tried and failed: nothing
	// saves it again in this request.
	saved bool
	// failed is set when the automatic save failed and ErrorFunc answered.
	failed bool
}

// errSessionAnswered is what the handler's writes get after a session failure was answered.
var errSessionAnswered = errors.New("restauth: the session could not be saved; the request was answered with 503")

// saveOnce is the automatic save.
func (w *sessionWriter) saveOnce() {
	if w.saved {
		return
	}
	w.saved = true
	if err := commitSession(w.r.Context(), w.sm, w.ResponseWriter); err != nil {
		w.sm.ErrorFunc(w.ResponseWriter, w.r, err)
		w.failed = true
	}
}

func (w *sessionWriter) WriteHeader(code int) {
	w.saveOnce()
	if !w.failed {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *sessionWriter) Write(b []byte) (int, error) {
	w.saveOnce()
	if w.failed {
		return 0, errSessionAnswered
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Flush, Hijack, deadlines).
func (w *sessionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// commitSession writes a modified session to the store and its cookie to w, or the
// deleting cookie of a destroyed one; an unchanged session costs nothing.
func commitSession(ctx context.Context, sm *scs.SessionManager, w http.ResponseWriter) error {
	switch sm.Status(ctx) {
	case scs.Modified:
		token, expiry, err := sm.Commit(ctx)
		if err != nil {
			return err
		}
		sm.WriteSessionCookie(ctx, w, token, expiry)
	case scs.Destroyed:
		sm.WriteSessionCookie(ctx, w, "", time.Time{})
	}
	return nil
}

// saveSession saves the request's session now, before the handler writes its answer, so
// that a handler which created something the session stands for (a login's token, a new
// account) can take it back when the store refuses the session, and answer the failure
// itself (sessionUnavailable, or a redirect) instead of a success the client never gets.
// The automatic save is then skipped, whatever the outcome: the session must not change
// after this call. Outside loadAndSave there is no session to save.
func (d *api291) saveSession(w http.ResponseWriter, r *http.Request) error {
	sw, _ := r.Context().Value(sessionWriterKey{}).(*sessionWriter)
	if sw == nil || sw.saved {
		return nil
	}
	sw.saved = true
	return commitSession(r.Context(), d.svc.sessions, w)
}

// sessionUnavailable answers a session that saveSession could not save, or a session
// operation (Destroy) that failed, as a failed automatic save is answered (ErrorFunc: 503
// with Retry-After, logged with the request's context). The handler has already taken back
// what the session stood for. The automatic save is skipped: the 503 is the whole answer,
// and a second store failure would only log the same outage twice.
func (d *api291) sessionUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	if sw, _ := r.Context().Value(sessionWriterKey{}).(*sessionWriter); sw != nil {
		sw.saved = true
	}
	d.svc.sessions.ErrorFunc(w, r, err)
}

// undoContext is the context for taking back what a request created when its session
// could not be saved: the request's values (its Client, for the audit events and the
// log) without its cancellation, so a client that gave up does not leave a live token.
func undoContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), undoTimeout)
}

// undoTimeout bounds the undo: it runs after the client may have gone.
const undoTimeout = 10 * time.Second

// representationHeaders describe the body the handler meant to send; they are wrong for the
// 503 that replaces it. Headers set before the session was loaded (CORS, say) stay.
var representationHeaders = []string{"Content-Length", "Content-Encoding", "Content-Range",
	"Content-Disposition", "Etag", "Last-Modified", "Location", "Set-Cookie"}

// sessionErrorFunc answers a session load or save failure (the session store is down, or
// holds data that does not decode) in the 291 dialect: 503 {"detail": …} with Retry-After,
// instead of scs's text/plain 500. The error is logged with the request's context; it
// never holds the browser's session id (the store sees only its hash), and the id is
// masked should a store put it in an error anyway.
func sessionErrorFunc(log *slog.Logger) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		ctx := r.Context()
		msg := sessionErrorMessage(r, err)
		detail := msgServiceUnavailable
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) && !errors.Is(context.Cause(ctx), ErrStoreTimeout) {
			// The client went away while the store was being asked: nobody reads this.
			log.DebugContext(ctx, "restauth: request cancelled", "method", r.Method, "path", logPath(r))
			detail = "Request cancelled."
		} else {
			log.ErrorContext(ctx, "restauth: session store failed", "method", r.Method, "path", logPath(r), "error", msg)
		}
		h := w.Header()
		for _, k := range representationHeaders {
			h.Del(k)
		}
		h.Set("Retry-After", sessionRetryAfter)
		writeDetail(w, http.StatusServiceUnavailable, detail)
	}
}

// sessionErrorMessage is err's text for the log, with the browser's session id masked
// should a store put it in an error (the store sees only its hash, so none should).
func sessionErrorMessage(r *http.Request, err error) string {
	msg := err.Error()
	if c, cerr := r.Cookie(sessionCookieName); cerr == nil && c.Value != "" {
		msg = strings.ReplaceAll(msg, c.Value, "[sessionid]")
	}
	return msg
}
