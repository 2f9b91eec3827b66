package httpapi

// KeyRoles is, for each route that takes an API key ("METHOD /path"), the
// roles its line of the route table admits besides admin.
func KeyRoles() map[string][]string {
	out := map[string][]string{}
	for _, r := range (&API{}).routeTable() {
		if r.access.keyed {
			out[r.method+" "+r.path] = r.access.roles
		}
	}
	return out
}
