package console

import "net/http"

// staffRoute is one console page or staff API call. Every one is served
// through withStaff, which checks the caller on its own for each route.
type staffRoute struct {
	method string // "" for the catch-alls, which take any method
	path   string // below the prefix
	admin  bool   // admins only (support gets 403)
	api    bool   // JSON; also accepts an API token
	handle func(http.ResponseWriter, *http.Request, *staffActor)
}

// staffRoutes is the console's route table: pages first, then the JSON API,
// then catch-alls that keep the rest of both trees staff-only, so strangers
// get the same 403 for a path that exists and one that does not, whatever
// the method.
func (h *Handler) staffRoutes() []staffRoute {
	const sup, adm, page, api = false, true, false, true
	return []staffRoute{
		{"GET", "/admin", sup, page, h.showConsole},
		{"GET", "/admin/users/{name}", sup, page, h.showStaffUser},
		{"POST", "/admin/users/{name}/signout-all", sup, page, h.submitConsoleAction(actSignOutAll)},
		{"POST", "/admin/users/{name}/sessions/{id}/revoke", sup, page, h.submitConsoleAction(actRevokeSession)},
		{"POST", "/admin/users/{name}/2fa/reset", sup, page, h.submitConsoleAction(actResetMFA)},
		{"POST", "/admin/users/{name}/passkeys/remove", sup, page, h.submitConsoleAction(actRemovePasskeys)},
		{"POST", "/admin/users/{name}/lock", sup, page, h.submitConsoleAction(actLock)},
		{"POST", "/admin/users/{name}/unlock", sup, page, h.submitConsoleAction(actUnlock)},
		{"POST", "/admin/users/{name}/throttles/clear", sup, page, h.submitConsoleAction(actClearThrottles)},
		{"POST", "/admin/users/{name}/reset-link", sup, page, h.submitConsoleAction(actResetLink)},
		{"POST", "/admin/users/{name}/disable", adm, page, h.submitConsoleAction(actDisable)},
		{"POST", "/admin/users/{name}/roles", adm, page, h.submitConsoleAction(actRoles)},
		{"POST", "/admin/users/{name}/groups", adm, page, h.submitConsoleAction(actGroups)},
		{"GET", "/admin/new-user", adm, page, h.showNewUser},
		{"POST", "/admin/new-user", adm, page, h.submitNewUser},
		{"GET", "/admin/audit", adm, page, h.showAudit},
		{"GET", "/admin/audit.csv", adm, page, h.exportAuditCSV},
		{"GET", "/admin/tokens", adm, page, h.showTokens},
		{"POST", "/admin/tokens", adm, page, h.submitNewToken},
		{"POST", "/admin/tokens/{id}/revoke", adm, page, h.submitRevokeToken},
		{"GET", "/admin/outbox", adm, page, h.showOutbox},
		{"POST", "/admin/outbox/{id}/retry", adm, page, h.submitOutboxRetry},

		{"GET", "/api/v1/users", sup, api, h.apiFindUsers},
		{"GET", "/api/v1/users/{name}", sup, api, h.apiGetUser},
		{"GET", "/api/v1/users/{name}/sessions", sup, api, h.apiUserSessions},
		{"GET", "/api/v1/users/{name}/activity", sup, api, h.apiUserActivity},
		{"POST", "/api/v1/users/{name}/signout-all", sup, api, h.apiAction(actSignOutAll)},
		{"POST", "/api/v1/users/{name}/sessions/{id}/revoke", sup, api, h.apiAction(actRevokeSession)},
		{"POST", "/api/v1/users/{name}/2fa/reset", sup, api, h.apiAction(actResetMFA)},
		{"POST", "/api/v1/users/{name}/passkeys/remove", sup, api, h.apiAction(actRemovePasskeys)},
		{"POST", "/api/v1/users/{name}/lock", sup, api, h.apiAction(actLock)},
		{"POST", "/api/v1/users/{name}/unlock", sup, api, h.apiAction(actUnlock)},
		{"POST", "/api/v1/users/{name}/throttles/clear", sup, api, h.apiAction(actClearThrottles)},
		{"POST", "/api/v1/users/{name}/reset-link", sup, api, h.apiAction(actResetLink)},
		{"POST", "/api/v1/users/{name}/disable", adm, api, h.apiAction(actDisable)},
		{"POST", "/api/v1/users/{name}/roles", adm, api, h.apiAction(actRoles)},
		{"POST", "/api/v1/users/{name}/groups", adm, api, h.apiAction(actGroups)},
		{"GET", "/api/v1/audit", adm, api, h.apiAudit},

		{"", "/admin", sup, page, h.staffNotFound},
		{"", "/admin/", sup, page, h.staffNotFound},
		{"", "/api/v1/users", sup, api, h.staffNotFound},
		{"", "/api/v1/users/", sup, api, h.staffNotFound},
		{"", "/api/v1/audit", adm, api, h.staffNotFound},
		{"", "/api/v1/audit/", adm, api, h.staffNotFound},
	}
}

// Routes registers the support console and the staff API on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	for _, rt := range h.staffRoutes() {
		pattern := h.Prefix + rt.path
		if rt.method != "" {
			pattern = rt.method + " " + pattern
		}
		mux.Handle(pattern, h.withStaff(rt))
	}
}

// staffNotFound answers staff on paths of the console trees that match no
// route (or not with this method).
func (h *Handler) staffNotFound(w http.ResponseWriter, r *http.Request, _ *staffActor) {
	h.NotFound(w, r)
}

// StaffRoute describes one route of the support console or the staff API,
// relative to the prefix, so tests can walk the whole table.
type StaffRoute struct {
	// Method is GET or POST; "" for a catch-all that takes any method.
	Method string
	// Path has {name} and {id} wildcards; a trailing "/" matches a subtree.
	Path string
	// AdminOnly routes refuse support staff.
	AdminOnly bool
	// API routes answer JSON and accept API tokens.
	API bool
}

// StaffRoutes lists every console and staff API route.
func StaffRoutes() []StaffRoute {
	var out []StaffRoute
	for _, rt := range (&Handler{}).staffRoutes() {
		out = append(out, StaffRoute{Method: rt.method, Path: rt.path, AdminOnly: rt.admin, API: rt.api})
	}
	return out
}
