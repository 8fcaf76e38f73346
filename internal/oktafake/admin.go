package oktafake

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// adminRoutes lists the /_fake admin API that scripts use to inspect and
// change the org while it runs. It needs no credentials and is neither
// counted nor rate-limited.
func (s *Server) adminRoutes() {
	p := s.prefix + "/_fake"
	m := http.NewServeMux()
	m.HandleFunc("GET "+p+"/truth", s.handleTruth)
	m.HandleFunc("GET "+p+"/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Stats()) })
	m.HandleFunc("POST "+p+"/stats/reset", func(w http.ResponseWriter, r *http.Request) {
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET "+p+"/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Faults()) })
	m.HandleFunc("POST "+p+"/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if !decodeBody(w, r, &f) {
			return
		}
		if err := f.Validate(); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.SetFaults(f)
		writeJSON(w, http.StatusOK, f)
	})
	m.HandleFunc("GET "+p+"/hooks", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.EventHooks()) })
	m.HandleFunc("POST "+p+"/hooks", func(w http.ResponseWriter, r *http.Request) {
		var h EventHook
		if !decodeBody(w, r, &h) {
			return
		}
		id, err := s.RegisterEventHook(r.Context(), h)
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": id, "status": "ACTIVE", "verificationStatus": "VERIFIED"})
	})
	m.HandleFunc("GET "+p+"/clock", s.handleClock)
	m.HandleFunc("POST "+p+"/clock", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Offset   *string `json:"offset"`
			LogDelay *string `json:"logDelay"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		var offset, delay time.Duration
		var err error
		if body.Offset != nil {
			if offset, err = time.ParseDuration(*body.Offset); err != nil {
				adminError(w, http.StatusBadRequest, "offset: want a duration such as 10m or -10m")
				return
			}
		}
		if body.LogDelay != nil {
			if delay, err = time.ParseDuration(*body.LogDelay); err != nil || delay < 0 {
				adminError(w, http.StatusBadRequest, "logDelay: want a duration such as 2s or 0s")
				return
			}
		}
		if body.Offset != nil {
			s.SetClockOffset(offset)
		}
		if body.LogDelay != nil {
			s.SetLogDelay(delay)
		}
		s.handleClock(w, r)
	})
	m.HandleFunc("POST "+p+"/latency", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Latency string `json:"latency"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		d, err := time.ParseDuration(body.Latency)
		if err != nil || d < 0 {
			adminError(w, http.StatusBadRequest, "latency: want a duration such as 50ms")
			return
		}
		s.SetLatency(d)
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("POST "+p+"/changes", withBody(func(w http.ResponseWriter, _ *http.Request, c Changes) {
		applied, err := s.org.ApplyChanges(c)
		if err != nil {
			adminError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, applied)
	}))
	m.HandleFunc("POST "+p+"/users", withBody(func(w http.ResponseWriter, _ *http.Request, u okta.User) {
		writeJSON(w, http.StatusCreated, s.org.AddUser(u))
	}))
	m.HandleFunc("POST "+p+"/users/{id}/deactivate", func(w http.ResponseWriter, r *http.Request) {
		s.adminResult(w, s.org.SetUserStatus(r.PathValue("id"), okta.StatusDeprovisioned))
	})
	m.HandleFunc("POST "+p+"/users/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Status string `json:"status"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		s.adminResult(w, s.org.SetUserStatus(r.PathValue("id"), body.Status))
	})
	m.HandleFunc("POST "+p+"/users/{id}/profile", withBody(func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		s.adminResult(w, s.org.UpdateUser(r.PathValue("id"), func(u *okta.User) {
			b, _ := json.Marshal(u.Profile)
			var merged map[string]any
			_ = json.Unmarshal(b, &merged)
			for k, v := range body {
				merged[k] = v
			}
			b, _ = json.Marshal(merged)
			var p okta.UserProfile
			if json.Unmarshal(b, &p) == nil {
				u.Profile = p
			}
		}))
	}))
	m.HandleFunc("DELETE "+p+"/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.adminResult(w, s.org.DeleteUser(r.PathValue("id")))
	})
	m.HandleFunc("POST "+p+"/groups", withBody(func(w http.ResponseWriter, _ *http.Request, g okta.Group) {
		writeJSON(w, http.StatusCreated, s.org.AddGroup(g))
	}))
	m.HandleFunc("POST "+p+"/groups/{id}/rename", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Name string `json:"name"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		if body.Name == "" {
			adminError(w, http.StatusBadRequest, "name: required")
			return
		}
		s.adminResult(w, s.org.RenameGroup(r.PathValue("id"), body.Name))
	})
	m.HandleFunc("DELETE "+p+"/groups/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.adminResult(w, s.org.DeleteGroup(r.PathValue("id")))
	})
	m.HandleFunc("PUT "+p+"/groups/{id}/users/{userId}", func(w http.ResponseWriter, r *http.Request) {
		s.adminResult(w, s.org.AddMember(r.PathValue("id"), r.PathValue("userId")))
	})
	m.HandleFunc("DELETE "+p+"/groups/{id}/users/{userId}", func(w http.ResponseWriter, r *http.Request) {
		s.adminResult(w, s.org.RemoveMember(r.PathValue("id"), r.PathValue("userId")))
	})
	m.HandleFunc("POST "+p+"/apps", withBody(func(w http.ResponseWriter, _ *http.Request, body struct {
		Label string `json:"label"`
	}) {
		writeJSON(w, http.StatusCreated, map[string]string{"id": s.org.AddApp(body.Label), "label": body.Label})
	}))
	m.HandleFunc("GET "+p+"/apps/{id}", func(w http.ResponseWriter, r *http.Request) {
		a, err := s.org.AppAssignment(r.PathValue("id"))
		if err != nil {
			s.adminResult(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string][]string{"direct": nonNil(a.Direct), "groups": nonNil(a.Groups), "users": nonNil(a.Users)})
	})
	m.HandleFunc("PUT "+p+"/apps/{id}/users/{userId}", func(w http.ResponseWriter, r *http.Request) {
		s.adminResult(w, s.org.AssignUser(r.PathValue("id"), r.PathValue("userId")))
	})
	m.HandleFunc("DELETE "+p+"/apps/{id}/users/{userId}", func(w http.ResponseWriter, r *http.Request) {
		s.adminResult(w, s.org.UnassignUser(r.PathValue("id"), r.PathValue("userId")))
	})
	m.HandleFunc("PUT "+p+"/apps/{id}/groups/{groupId}", func(w http.ResponseWriter, r *http.Request) {
		s.adminResult(w, s.org.AssignGroup(r.PathValue("id"), r.PathValue("groupId")))
	})
	m.HandleFunc("DELETE "+p+"/apps/{id}/groups/{groupId}", func(w http.ResponseWriter, r *http.Request) {
		s.adminResult(w, s.org.UnassignGroup(r.PathValue("id"), r.PathValue("groupId")))
	})
	s.admin = m
}

// nonNil returns ids, or an empty list for nil, so that JSON shows [].
func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// handleClock serves GET /_fake/clock: the server's time, its offset from
// its clock and the System Log's visibility delay.
func (s *Server) handleClock(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{
		"now":      s.now().UTC().Format(okta.TimeFormat),
		"offset":   s.ClockOffset().String(),
		"logDelay": s.LogDelay().String(),
	})
}

func (s *Server) adminResult(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrNotFound):
		adminError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrForbidden):
		adminError(w, http.StatusForbidden, err.Error())
	default:
		adminError(w, http.StatusBadRequest, err.Error())
	}
}

func adminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		adminError(w, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	return true
}

// withBody is a handler decoding the request's JSON body into a T for h,
// and answering a bad body itself.
func withBody[T any](h func(w http.ResponseWriter, r *http.Request, body T)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body T
		if decodeBody(w, r, &body) {
			h(w, r, body)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// handleTruth serves GET /_fake/truth: counts, and every user and group
// with the fields a script needs to compute the expected catalog. With
// ?members=1 each group lists its member ids.
func (s *Server) handleTruth(w http.ResponseWriter, r *http.Request) {
	withMembers := r.URL.Query().Get("members") == "1"
	o := s.org
	o.mu.RLock()
	defer o.mu.RUnlock()
	memberships, deprovisioned := 0, 0
	for _, slot := range o.groupOrder {
		memberships += len(o.groups[slot].members)
	}
	for _, slot := range o.userOrder {
		if o.users[slot].status == okta.StatusDeprovisioned {
			deprovisioned++
		}
	}
	w.Header().Set("Content-Type", "application/json")
	pw := &pageWriter{w: w, buf: make([]byte, 0, flushSize+4096)}
	b := append(pw.buf, `{"users":`...)
	b = strconv.AppendInt(b, int64(len(o.userOrder)), 10)
	b = append(b, `,"deprovisionedUsers":`...)
	b = strconv.AppendInt(b, int64(deprovisioned), 10)
	b = append(b, `,"groups":`...)
	b = strconv.AppendInt(b, int64(len(o.groupOrder)), 10)
	b = append(b, `,"memberships":`...)
	b = strconv.AppendInt(b, int64(memberships), 10)
	b = append(b, `,"now":`...)
	b = appendTime(b, o.nowMS())
	b = append(b, `,"userList":[`...)
	for i, slot := range o.userOrder {
		u := &o.users[slot]
		if i > 0 {
			b = append(b, ',')
		}
		b = openObject(b, "id", u.id, "login", u.profile.Login, "email", u.profile.Email, "status", u.status)
		b = append(b, '}')
		pw.done(b)
		b = pw.buf
	}
	b = append(b, `],"groupList":[`...)
	for i, slot := range o.groupOrder {
		g := &o.groups[slot]
		if i > 0 {
			b = append(b, ',')
		}
		b = openObject(b, "id", g.id, "name", g.name, "type", g.typ)
		b = append(b, `,"usersCount":`...)
		b = strconv.AppendInt(b, int64(len(g.members)), 10)
		for _, key := range []string{AttrOrgID, AttrParentOrgID} {
			if v := g.attr(key); v != nil {
				b = appendKey(b, false, key)
				b = appendValue(b, v)
			}
		}
		if withMembers {
			b = append(b, `,"members":[`...)
			for k, m := range g.members {
				if k > 0 {
					b = append(b, ',')
				}
				b = okta.AppendJSONString(b, o.users[m].id)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
		pw.done(b)
		b = pw.buf
	}
	b = append(b, "]}\n"...)
	_, _ = w.Write(b)
}
