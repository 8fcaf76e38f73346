package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
)

// listPages returns an iterator over the items of every page of a listing,
// starting at first and following the Link rel="next" headers. A next link
// off the org (another scheme, host or port) ends the listing with an error
// before anything is sent to it. With stopOnEmpty, a page without items ends
// the listing even when it has a next link (the System Log always has one).
// A non-nil setupErr is yielded instead of listing anything.
func listPages[T any](ctx context.Context, c *Client, first *url.URL, ex expression, stopOnEmpty bool, setupErr error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if setupErr != nil {
			yield(zero, setupErr)
			return
		}
		u := first
		for page := 1; ; page++ {
			resp, body, err := c.get(ctx, u, ex)
			if err != nil {
				yield(zero, err)
				return
			}
			var items []T
			if err := json.Unmarshal(body, &items); err != nil {
				yield(zero, fmt.Errorf("okta: decode page %d of %s: %w", page, u.Path, err))
				return
			}
			for _, item := range items {
				if !yield(item, nil) {
					return
				}
			}
			if resp.NextPage == "" || (stopOnEmpty && len(items) == 0) {
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
			if next.String() == u.String() {
				yield(zero, fmt.Errorf("okta: page %d of %s: the next link repeats the page", page, u.Path))
				return
			}
			u = next
		}
	}
}
