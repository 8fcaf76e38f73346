package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
)

// listing is one paged listing for listPages.
type listing[T any] struct {
	first *url.URL
	ex    expression
	// what the items are, plural, for errors: "users", "groups", "members".
	what string
	// check returns what makes an item unusable, "" when it is usable; nil
	// accepts every item.
	check func(*T) string
	// stopOnEmpty ends the listing at a page without items even when it has
	// a next link (the System Log always has one).
	stopOnEmpty bool
	// pageSize is the limit the first request asks for.
	pageSize int
	// expected is how many items the caller expects, -1 when unknown.
	expected int
	// setupErr, when not nil, is yielded instead of listing anything.
	setupErr error
}

// expectedSlackPages is how many pages beyond twice the expected count a
// listing of known size may take: counts from expand=stats lag behind
// membership changes.
const expectedSlackPages = 10

// listPages returns an iterator over the items of every page of a listing,
// starting at l.first and following the Link rel="next" headers.
//
// A listing ends with an error, never a partial or inflated list, when
// Okta's answers cannot be right: a next link off the org (another scheme,
// host or port, refused before anything is sent to it), a next link to a
// page already listed (by URL or by its after cursor), more pages than
// Options.MaxListingPages or than the expected count makes plausible, a
// page that is not a JSON array (retried first, see get), or a page with an
// item check refuses. A page is checked whole before any of its items is
// yielded.
func listPages[T any](ctx context.Context, c *Client, l listing[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if l.setupErr != nil {
			yield(zero, l.setupErr)
			return
		}
		u := l.first
		// Pages listed, by URL and by after cursor: a next link to one of
		// them is a loop.
		seen := map[string]int{u.String(): 1}
		seenAfter := map[string]int{}
		if a := u.Query().Get("after"); a != "" {
			seenAfter[a] = 1
		}
		listed, largest := 0, 0
		for page := 1; ; page++ {
			// A new slice for every page and every attempt: decoding into
			// a used one would keep fields the new body lacks.
			var items []T
			resp, err := c.get(ctx, u, l.ex, func(body []byte) error {
				items = nil
				return decodePage(body, &items, l.check, l.what)
			})
			if errors.Is(err, ErrBadResponse) {
				err = fmt.Errorf("%w (page %d of the listing)", err, page)
			}
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range items {
				if !yield(item, nil) {
					return
				}
			}
			listed += len(items)
			largest = max(largest, len(items))
			if resp.NextPage == "" || (l.stopOnEmpty && len(items) == 0) {
				return
			}
			next, err := u.Parse(resp.NextPage)
			if err != nil {
				yield(zero, fmt.Errorf("okta: page %d of %s: bad next link: %w", page, u.Path, err))
				return
			}
			if err := c.sameOrigin(next); err != nil {
				yield(zero, fmt.Errorf("okta: page %d of %s: next link refused: %w", page, u.Path, err))
				return
			}
			if err := l.bound(c.opts.MaxListingPages, page, listed, largest); err != nil {
				yield(zero, fmt.Errorf("%w: GET %s: %w", ErrBadResponse, u.Path, err))
				return
			}
			key, after := next.String(), next.Query().Get("after")
			earlier, ok := seen[key]
			if !ok && after != "" {
				earlier, ok = seenAfter[after]
			}
			if ok {
				yield(zero, fmt.Errorf("%w: GET %s: the next link of page %d leads back to page %d: the listing would never end",
					ErrBadResponse, u.Path, page, earlier))
				return
			}
			seen[key] = page + 1
			if after != "" {
				seenAfter[after] = page + 1
			}
			u = next
		}
	}
}

// bound returns an error when a listing that has taken pages pages, with
// listed items in all and largest in its largest page, may not take
// another: past maxPages, or, when the count is expected, past twice the
// pages the expected count fills at the size of the largest page, plus
// expectedSlackPages, or past as many items.
func (l *listing[T]) bound(maxPages, pages, listed, largest int) error {
	if pages >= maxPages {
		return fmt.Errorf("the listing goes on past %d pages (%d %s so far), the most Options.MaxListingPages allows; raise it if the org is that large",
			maxPages, listed, l.what)
	}
	if l.expected < 0 {
		return nil
	}
	perPage := max(1, min(l.pageSize, largest))
	allowed := 2*((l.expected+perPage-1)/perPage) + expectedSlackPages
	if pages >= allowed || listed > 2*l.expected+expectedSlackPages*perPage {
		return fmt.Errorf("the listing goes on past %d pages and %d %s where %d were expected (a listing may take twice the expected count and %d pages more)",
			pages, listed, l.what, l.expected, expectedSlackPages)
	}
	return nil
}

// decodePage decodes the JSON array body into items and checks every item.
// A body that is not a JSON array is a *malformedError; an item check
// refuses fails the whole page.
func decodePage[T any](body []byte, items *[]T, check func(*T) string, what string) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return &malformedError{"an empty body", errors.New("no JSON array")}
	case trimmed[0] != '[':
		return &malformedError{"a body that is not a JSON array", fmt.Errorf("it starts with %s", strconv.QuoteRune(rune(trimmed[0])))}
	}
	if err := json.Unmarshal(body, items); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return &malformedError{"a body that is not valid JSON", err}
		}
		return fmt.Errorf("decode %s: %w", what, err)
	}
	if check == nil {
		return nil
	}
	for i := range *items {
		if problem := check(&(*items)[i]); problem != "" {
			return fmt.Errorf("item %d of the %d %s on the page is %s; the page is refused whole",
				i+1, len(*items), what, problem)
		}
	}
	return nil
}

// checkUser refuses a user without the fields the catalog relies on: the
// id (names fall back to it, every reference uses it) and the login.
func checkUser(u *User) string { return checkRequired("user", u.ID, "login", u.Profile.Login) }

// checkGroup refuses a group without an id or a profile.name.
func checkGroup(g *Group) string { return checkRequired("group", g.ID, "name", g.Profile.Name) }

// checkRequired names what a kind of item lacks: its id, or the profile
// attribute attr (whose value is value); "" when it lacks neither.
func checkRequired(kind, id, attr, value string) string {
	switch {
	case id == "":
		return "a " + kind + " without an id (null, {} or an empty id)"
	case value == "":
		return kind + " " + strconv.Quote(id) + " without a profile." + attr
	}
	return ""
}

// listQuery builds the query of a users or groups listing: the page limit,
// the admin's filter or search expression (at most one may be set) combined
// with the changed-since condition changed, and expand when not "".
func listQuery(what, filter, search, changed, expand string, limit int) (url.Values, expression, error) {
	filter, search = strings.TrimSpace(filter), strings.TrimSpace(search)
	if filter != "" && search != "" {
		return nil, expression{}, fmt.Errorf("okta: list %s: set a filter or a search expression, not both", what)
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if expand != "" {
		q.Set("expand", expand)
	}
	ex := combine(filter, search, changed)
	if ex.text != "" {
		q.Set(ex.kind, ex.text)
	}
	return q, ex, nil
}

// combine joins the admin's filter or search expression (at most one is
// set) with a changed-since condition: `(<admin>) and <changed>`. The
// admin's expression is parenthesised so that its own "or" cannot swallow
// the condition. With no admin expression the condition is a filter.
func combine(filter, search, changed string) expression {
	kind, admin := "filter", filter
	if search != "" {
		kind, admin = "search", search
	}
	switch {
	case changed == "":
		return expression{kind: kind, text: admin}
	case admin == "":
		return expression{kind: kind, text: changed}
	}
	return expression{kind: kind, text: "(" + admin + ") and " + changed}
}
