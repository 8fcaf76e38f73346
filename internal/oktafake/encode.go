package oktafake

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// The encoders write Okta's JSON by hand: timestamps in Okta's millisecond
// format, keys in Okta's order, and no reflection, so that pages of large
// orgs stream fast.

func appendTime(b []byte, ms int64) []byte {
	if ms == 0 {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = time.UnixMilli(ms).UTC().AppendFormat(b, okta.TimeFormat)
	return append(b, '"')
}

// appendTimeAt writes key, the JSON before the value (e.g. `,"created":`),
// then the time ms as appendTime does.
func appendTimeAt(b []byte, key string, ms int64) []byte {
	return appendTime(append(b, key...), ms)
}

// appendStringAt writes key, the JSON before the value, then v as a JSON
// string.
func appendStringAt(b []byte, key, v string) []byte {
	return okta.AppendJSONString(append(b, key...), v)
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return okta.AppendJSONString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	}
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

func appendKey(b []byte, first bool, key string) []byte {
	if !first {
		b = append(b, ',')
	}
	b = okta.AppendJSONString(b, key)
	return append(b, ':')
}

// appendUser writes a user as Okta's Users API does. base is the org's URL
// (scheme, host and path prefix) for the _links.
func appendUser(b []byte, u *userRec, base string) []byte {
	b = appendStringAt(b, `{"id":`, u.id)
	b = appendStringAt(b, `,"status":`, u.status)
	b = appendTimeAt(b, `,"created":`, u.created)
	b = appendTimeAt(b, `,"activated":`, u.activated)
	b = appendTimeAt(b, `,"statusChanged":`, u.statusChanged)
	b = appendTimeAt(b, `,"lastLogin":`, u.lastLogin)
	b = appendTimeAt(b, `,"lastUpdated":`, u.lastUpdated)
	b = appendTimeAt(b, `,"passwordChanged":`, u.passwordChanged)
	if u.typeID != "" {
		b = appendStringAt(b, `,"type":{"id":`, u.typeID)
		b = append(b, '}')
	}
	b = append(b, `,"profile":`...)
	b = appendUserProfile(b, &u.profile, u.custom)
	b = append(b, `,"credentials":{"provider":{"type":"OKTA","name":"OKTA"}}`...)
	b = appendStringAt(b, `,"_links":{"self":{"href":`, base+"/api/v1/users/"+u.id)
	return append(b, `}}}`...)
}

func appendUserProfile(b []byte, p *okta.UserProfile, custom []attr) []byte {
	b = append(b, '{')
	first := true
	field := func(key, v string, nullIfEmpty bool) {
		if v == "" && !nullIfEmpty {
			return
		}
		b = appendKey(b, first, key)
		first = false
		if v == "" {
			b = append(b, "null"...)
			return
		}
		b = okta.AppendJSONString(b, v)
	}
	// Okta's order: the name, then phone and second email (null when
	// unset), then login and email, then the rest.
	field("firstName", p.FirstName, true)
	field("lastName", p.LastName, true)
	field("mobilePhone", "", true)
	field("secondEmail", p.SecondEmail, true)
	field("login", p.Login, false)
	field("email", p.Email, false)
	field("displayName", p.DisplayName, false)
	field("nickName", p.NickName, false)
	field("title", p.Title, false)
	field("department", p.Department, false)
	field("division", p.Division, false)
	field("organization", p.Organization, false)
	field("costCenter", p.CostCenter, false)
	field("manager", p.Manager, false)
	field("managerId", p.ManagerID, false)
	field("employeeNumber", p.EmployeeNumber, false)
	field("userType", p.UserType, false)
	for _, a := range custom {
		b = appendKey(b, first, a.name)
		first = false
		b = appendValue(b, a.value)
	}
	return append(b, '}')
}

// appendGroup writes a group as Okta's Groups API does; usersCount >= 0
// adds _embedded.stats as expand=stats does.
func appendGroup(b []byte, g *groupRec, usersCount int, base string) []byte {
	b = appendStringAt(b, `{"id":`, g.id)
	b = appendTimeAt(b, `,"created":`, g.created)
	b = appendTimeAt(b, `,"lastUpdated":`, g.lastUpdated)
	b = appendTimeAt(b, `,"lastMembershipUpdated":`, g.lastMembershipUpdated)
	b = appendStringAt(b, `,"objectClass":[`, g.objectClass())
	b = appendStringAt(b, `],"type":`, g.typ)
	b = appendStringAt(b, `,"profile":{"name":`, g.name)
	b = append(b, `,"description":`...)
	if g.description == "" {
		b = append(b, "null"...)
	} else {
		b = okta.AppendJSONString(b, g.description)
	}
	for _, a := range g.custom {
		b = appendKey(b, false, a.name)
		b = appendValue(b, a.value)
	}
	b = append(b, '}')
	if g.sourceID != "" {
		b = appendStringAt(b, `,"source":{"id":`, g.sourceID)
		b = append(b, '}')
	}
	self := base + "/api/v1/groups/" + g.id
	if usersCount >= 0 {
		b = append(b, `,"_embedded":{"stats":{"usersCount":`...)
		b = strconv.AppendInt(b, int64(usersCount), 10)
		b = appendStringAt(b, `,"appsCount":0,"groupPushMappingsCount":0,"hasAdminPrivilege":false,"_links":{"self":{"href":`, self+"/stats")
		b = append(b, `}}}}`...)
	}
	b = appendStringAt(b, `,"_links":{"logo":[{"name":"medium","href":`, base+"/assets/img/logos/groups/okta-medium.png")
	b = appendStringAt(b, `,"type":"image/png"}],"users":{"href":`, self+"/users")
	b = appendStringAt(b, `},"apps":{"href":`, self+"/apps")
	return append(b, `}}}`...)
}

func appendEvent(b []byte, e *event) []byte {
	b = append(b, `{"actor":{"id":"00u0000000000FAKEADM","type":"User","alternateId":"admin@example.com","displayName":"Org Admin","detailEntry":null}`...)
	b = append(b, `,"client":{"userAgent":{"rawUserAgent":"okta-fake","os":"Unknown","browser":"UNKNOWN"},"zone":"null","device":"Unknown","id":null,"ipAddress":"127.0.0.1","geographicalContext":null}`...)
	b = append(b, `,"authenticationContext":{"authenticationProvider":null,"credentialProvider":null,"credentialType":null,"issuer":null,"interface":null,"authenticationStep":0,"externalSessionId":"trs-fake"}`...)
	b = appendStringAt(b, `,"displayMessage":`, displayMessage(e.eventType))
	b = appendStringAt(b, `,"eventType":`, e.eventType)
	b = appendTimeAt(b, `,"outcome":{"result":"SUCCESS","reason":null},"published":`, e.published)
	b = appendStringAt(b, `,"securityContext":{"asNumber":null,"asOrg":null,"isp":null,"domain":null,"isProxy":null},"severity":"INFO","debugContext":{"debugData":{}},"legacyEventType":null,"transaction":{"type":"WEB","id":"fake","detail":{}},"uuid":`, e.uuid)
	b = append(b, `,"version":"0","request":{"ipChain":[]},"target":[`...)
	for i, t := range e.targets {
		if i > 0 {
			b = append(b, ',')
		}
		b = openObject(b, "id", t.id, "type", t.typ, "alternateId", t.alternateID, "displayName", t.displayName)
		b = append(b, `,"detailEntry":null}`...)
	}
	return append(b, "]}"...)
}

// openObject appends "{" and the string fields kv (name, value, name,
// value...), leaving the object open for more fields.
func openObject(b []byte, kv ...string) []byte {
	b = append(b, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = okta.AppendJSONString(b, kv[i])
		b = append(b, ':')
		b = okta.AppendJSONString(b, kv[i+1])
	}
	return b
}

func displayMessage(eventType string) string {
	switch eventType {
	case "user.lifecycle.create":
		return "Create Okta user"
	case "user.lifecycle.deactivate":
		return "Deactivate Okta user"
	case "user.lifecycle.delete.initiated":
		return "Delete Okta user"
	case "user.account.update_profile":
		return "Update user profile for Okta"
	case "group.lifecycle.create":
		return "Create okta user group"
	case "group.lifecycle.delete":
		return "Delete okta user group"
	case "group.profile.update":
		return "Update okta user group profile"
	case "group.user_membership.add":
		return "Add user to group membership"
	case "group.user_membership.remove":
		return "Remove user from group membership"
	case "application.lifecycle.create":
		return "Create application"
	case "application.user_membership.add":
		return "Add user to application membership"
	case "application.user_membership.remove":
		return "Remove user from application membership"
	case "group.application_assignment.add":
		return "Add assigned application to group"
	case "group.application_assignment.remove":
		return "Remove assigned application from group"
	}
	return eventType
}
