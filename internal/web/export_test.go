package web

// StaffRoles is, for each staff page ("METHOD /path"), the roles its line
// of the route table admits.
func StaffRoles() map[string][]string {
	out := map[string][]string{}
	for _, r := range New(Deps{}).routeTable() {
		if r.access.staff {
			out[r.method+" "+r.path] = r.access.roles
		}
	}
	return out
}
