package headless

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/restauth/restauth"
)

// sessionData is allauth's Session object (its usersessions app), one entry of the
// session list.
type sessionData struct {
	ID         int64   `json:"id"`
	IP         string  `json:"ip"`
	UserAgent  string  `json:"user_agent"`
	CreatedAt  float64 `json:"created_at"`
	LastSeenAt float64 `json:"last_seen_at"`
	IsCurrent  bool    `json:"is_current"`
}

// sessions is GET auth/sessions: the caller's sessions (401 with the flows when
// anonymous, as every authenticated view of allauth).
func (h *handler) sessions(c *call) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	return c.sessionList()
}

// endSessions is DELETE auth/sessions, {"sessions": [ids]}: those sessions end; the list
// of the rest answers, or, when the caller's own session was one of them, the anonymous
// session (401), as allauth logs it out.
func (h *handler) endSessions(c *call) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	var in struct {
		Sessions json.RawMessage `json:"sessions"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	ids, bad := sessionIDs(in.Sessions)
	if bad != nil {
		return badRequest(*bad)
	}
	loggedOut, err := c.svc().EndSessions(c.ctx, c.user.ID, ids)
	var verr *restauth.ValidationError
	switch {
	case errors.As(err, &verr) && len(verr.Fields["sessions"]) > 0:
		e := required("sessions")
		if errors.Is(err, restauth.ErrNotFound) {
			e = apiError{Code: "invalid_choice", Param: "sessions", Message: verr.Fields["sessions"][0]}
		}
		return badRequest(e)
	case err != nil:
		return c.fail(err)
	case loggedOut:
		c.user = nil
		return c.authAnswer(nil)
	}
	return c.sessionList()
}

// sessionIDs reads the ids of a DELETE as Django's ModelMultipleChoiceField does: a list
// of integers or of their decimal strings ("" and null lists are left to the operation,
// which calls them missing).
func sessionIDs(raw json.RawMessage) ([]int64, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, &apiError{Code: "invalid_list", Param: "sessions", Message: "Enter a list of values."}
	}
	ids := make([]int64, 0, len(items))
	for _, item := range items {
		text := string(item)
		var s string
		if json.Unmarshal(item, &s) == nil {
			text = s
		}
		id, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, &apiError{Code: "invalid_pk_value", Param: "sessions", Message: "“" + text + "” is not a valid value."}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// sessionList answers the caller's sessions.
func (c *call) sessionList() *answer {
	list, err := c.svc().UserSessions(c.ctx, c.user.ID)
	if err != nil {
		return c.fail(err)
	}
	data := make([]sessionData, 0, len(list))
	for _, s := range list {
		data = append(data, sessionData{ID: s.ID, IP: s.IP, UserAgent: s.UserAgent,
			CreatedAt: epochSeconds(s.Created), LastSeenAt: epochSeconds(s.LastSeen), IsCurrent: s.Current})
	}
	return ok(data)
}
