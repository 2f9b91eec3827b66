package web_test

import (
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// dom is a parsed page (or an element of one) that tests query with simple
// selectors: "li.stop", "#stop-7", "form[action=/crew/today/pitch] button",
// "input[name=phone]"; a space means "inside".
type dom struct {
	t *testing.T
	n *html.Node
}

func parseDOM(t *testing.T, body string) dom {
	t.Helper()
	n, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the page does not parse: %v", err)
	}
	return dom{t, n}
}

var simpleSelector = regexp.MustCompile(`^([a-z0-9]*)((?:[#.][A-Za-z0-9_-]+|\[[a-z-]+(?:=[^\]]*)?\])*)$`)
var selectorPart = regexp.MustCompile(`[#.][A-Za-z0-9_-]+|\[[a-z-]+(?:=[^\]]*)?\]`)

// matches reports whether n is an element that one simple selector (no
// spaces) selects.
func matches(n *html.Node, sel string) bool {
	m := simpleSelector.FindStringSubmatch(sel)
	if m == nil {
		panic("selector not understood: " + sel)
	}
	if n.Type != html.ElementNode || (m[1] != "" && n.Data != m[1]) {
		return false
	}
	for _, p := range selectorPart.FindAllString(m[2], -1) {
		switch p[0] {
		case '#':
			if attr(n, "id") != p[1:] {
				return false
			}
		case '.':
			if !hasClass(n, p[1:]) {
				return false
			}
		case '[':
			name, value, withValue := strings.Cut(p[1:len(p)-1], "=")
			v, ok := attrOK(n, name)
			if !ok || (withValue && v != value) {
				return false
			}
		}
	}
	return true
}

func attrOK(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

func attr(n *html.Node, name string) string { v, _ := attrOK(n, name); return v }

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// all returns every element inside d that selector selects, in document
// order.
func (d dom) all(selector string) []dom {
	scopes := []*html.Node{d.n}
	for _, sel := range strings.Fields(selector) {
		seen := map[*html.Node]bool{}
		var next []*html.Node
		for _, s := range scopes {
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if matches(c, sel) && !seen[c] {
						seen[c] = true
						next = append(next, c)
					}
					walk(c)
				}
			}
			walk(s)
		}
		scopes = next
	}
	out := make([]dom, len(scopes))
	for i, n := range scopes {
		out[i] = dom{d.t, n}
	}
	return out
}

// one is the only element selector selects inside d; the test stops
// when there is none or more than one.
func (d dom) one(selector string) dom {
	d.t.Helper()
	found := d.all(selector)
	if len(found) != 1 {
		d.t.Fatalf("%d elements match %q, want 1", len(found), selector)
	}
	return found[0]
}

// has reports whether selector selects anything inside d.
func (d dom) has(selector string) bool { return len(d.all(selector)) > 0 }

func (d dom) attr(name string) string { return attr(d.n, name) }

// hasAttr reports whether the element carries the attribute at all.
func (d dom) hasAttr(name string) bool { _, ok := attrOK(d.n, name); return ok }

// text is the element's text with runs of white space made one space.
func (d dom) text() string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(d.n)
	return strings.Join(strings.Fields(b.String()), " ")
}
