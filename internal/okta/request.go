package okta

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// Response is Okta's answer to one API request, less the body.
type Response struct {
	StatusCode int
	Header     http.Header
	// NextPage is the target of the Link rel="next" header, "" on the last page.
	NextPage string
	// Bucket is the rate-limit bucket the request counted against, and
	// Rate its budget as this response reported it (zero when absent).
	Bucket string
	Rate   RateState
	// RequestID is X-Okta-Request-Id, to quote to Okta support.
	RequestID string
}

// expression is the filter or search expression a request carries, named in
// errors when Okta rejects it.
type expression struct {
	kind, text string
}

// request is one call to the org, which do sends as many times as the
// retry policy allows.
type request struct {
	method string
	url    *url.URL
	bucket string
	// paced requests wait for their bucket's budget, and their answers'
	// rate headers and Date feed the pacing and Client.Now: every API
	// call, but not the token request.
	paced bool
	// ex is the filter or search expression the request carries.
	ex expression
	// authorize sets one attempt's credentials, in its header or in the
	// form it returns, and returns an opaque handle of the credential it
	// used, for reauthorize.
	authorize func(ctx context.Context, h http.Header) (credential string, form url.Values, err error)
	// observe sees the header of every answer.
	observe func(h http.Header)
	// reauthorize is told about an error answer that would end the
	// request, and reports whether sending it again, authorized anew, may
	// succeed. It bounds how often it says so.
	reauthorize func(credential string, h http.Header, e *Error) bool
	// readError fills e from an error answer's body.
	readError func(e *Error, body []byte)
}

// answer is what one attempt got back.
type answer struct {
	resp       *Response
	body       []byte
	credential string        // the handle authorize returned
	reset      time.Duration // until the bucket's window resets; 0 when not known
}

// sendError is an attempt that got no answer: a network error or a timeout.
type sendError struct{ err error }

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// get sends a GET to u, an absolute URL within the org, hands the body of a
// 2xx answer to decode and returns the response.
func (c *Client) get(ctx context.Context, u *url.URL, ex expression, decode func([]byte) error) (*Response, error) {
	if err := c.sameOrigin(u); err != nil {
		return nil, err
	}
	reauths := 0
	req := &request{
		method: http.MethodGet,
		url:    u,
		bucket: bucketFor(strings.TrimPrefix(u.Path, c.base.Path)),
		paced:  true,
		ex:     ex,
		authorize: func(ctx context.Context, h http.Header) (string, url.Values, error) {
			cred, err := c.auth.authorize(ctx, http.MethodGet, u, h)
			return cred, nil, err
		},
		observe: c.auth.observe,
		reauthorize: func(cred string, h http.Header, e *Error) bool {
			if e.StatusCode != http.StatusUnauthorized || reauths >= 2 || !c.auth.reject(cred, h) {
				return false
			}
			reauths++
			return true
		},
		readError: readAPIError,
	}
	return c.do(ctx, req, decode)
}

// do sends req, hands the body of a 2xx answer to decode (when not nil) and
// returns the response. It is the retry policy of every request: it backs
// off and retries network errors, server errors and 2xx bodies decode finds
// malformed (a *malformedError), up to Options.MaxRetries times; waits out
// 429s until the bucket resets, up to Options.MaxRateLimitWaits times;
// sends again when req.reauthorize says a new authorization may succeed;
// and returns any other error answer as an *Error.
func (c *Client) do(ctx context.Context, req *request, decode func([]byte) error) (*Response, error) {
	method, path, bucket := req.method, req.url.Path, req.bucket
	retries, rateWaits := 0, 0
	// retry backs off before the next attempt when the budget allows.
	retry := func() (bool, error) {
		if retries >= c.opts.MaxRetries {
			return false, nil
		}
		retries++
		c.obs.Retry(bucket)
		if err := c.backoff(ctx, bucket, retries); err != nil {
			return false, fmt.Errorf("okta: %s %s: %w", method, path, err)
		}
		return true, nil
	}
	for attempt := 1; ; attempt++ {
		a, err := c.attempt(ctx, req, attempt)
		var (
			sendErr *sendError
			apiErr  *Error
		)
		switch {
		case errors.As(err, &sendErr):
			if ctx.Err() != nil {
				return nil, fmt.Errorf("okta: %s %s: %w", method, path, ctx.Err())
			}
			c.log.Debug().Str("path", path).Int("attempt", attempt).Err(sendErr.err).Msg("okta request failed")
			if again, err := retry(); err != nil {
				return nil, err
			} else if again {
				continue
			}
			return nil, fmt.Errorf("%w: %s %s failed after %d attempts: %w", ErrUnavailable, method, path, attempt, sendErr.err)
		case a.resp == nil:
			return nil, err
		case errors.As(err, &apiErr):
		default:
			if decode == nil {
				return a.resp, nil
			}
			err := decode(a.body)
			if err == nil {
				return a.resp, nil
			}
			var malformed *malformedError
			if !errors.As(err, &malformed) {
				return nil, fmt.Errorf("%w: %s %s: %w", ErrBadResponse, method, path, err)
			}
			// A 200 whose body is cut short or not what was asked for is a
			// broken answer, like a 5xx: ask again.
			if retries < c.opts.MaxRetries {
				c.log.Debug().Str("path", path).Int("attempt", attempt).Err(err).Msg("okta answered a malformed body, retrying")
			}
			if again, err := retry(); err != nil {
				return nil, err
			} else if again {
				continue
			}
			return nil, fmt.Errorf("%w: %s %s answered %d with %s, %d times: %w", ErrBadResponse, method, path, a.resp.StatusCode, malformed.what, attempt, malformed.err)
		}

		status := apiErr.StatusCode
		switch {
		case status == http.StatusTooManyRequests:
			c.obs.RateLimited(bucket)
			if rateWaits < c.opts.MaxRateLimitWaits {
				rateWaits++
				// No believable reset (a concurrency 429, a broken header,
				// a reset already past): back off instead.
				wait := a.reset
				if wait <= 0 {
					wait = c.backoffDelay(rateWaits)
				}
				wait = min(wait, 2*windowEstimate) + rand.N(500*time.Millisecond)
				c.log.Warn().Str("bucket", bucket).Str("path", path).Dur("wait", wait).
					Int("limit", a.resp.Rate.Limit).Msg("okta rate limit exceeded, waiting for the reset")
				c.obs.Retry(bucket)
				if err := c.sleep(ctx, bucket, wait, true); err != nil {
					return nil, fmt.Errorf("okta: %s %s: %w", method, path, err)
				}
				continue
			}
		case status >= 500:
			if retries < c.opts.MaxRetries {
				c.log.Debug().Str("path", path).Int("status", status).Int("attempt", attempt).Msg("okta server error, retrying")
			}
			if again, err := retry(); err != nil {
				return nil, err
			} else if again {
				continue
			}
		}
		if req.reauthorize != nil && req.reauthorize(a.credential, a.resp.Header, apiErr) {
			c.obs.Retry(bucket)
			c.log.Debug().Str("path", path).Int("status", status).Msgf("okta answered %d, authorizing again", status)
			continue
		}
		return nil, apiErr
	}
}

// attempt sends req once: it waits for the bucket's budget (when paced),
// authorizes, sends holding a concurrency slot, reads the body bounded by
// Options.MaxResponseBytes and records the rate headers. An answer comes
// back in the answer, with an *Error when it is not a 2xx; an attempt that
// got no answer fails with a *sendError.
func (c *Client) attempt(ctx context.Context, req *request, n int) (answer, error) {
	method, path, bucket := req.method, req.url.Path, req.bucket
	if err := ctx.Err(); err != nil {
		return answer{}, fmt.Errorf("okta: %s %s: %w", method, path, err)
	}
	if req.paced {
		waited, err := c.limits.acquire(ctx, bucket)
		if waited > time.Millisecond {
			c.rateWait(bucket, waited)
			c.log.Debug().Str("bucket", bucket).Dur("wait", waited).Msg("okta pacing wait")
		}
		if err != nil {
			return answer{}, fmt.Errorf("okta: %s %s: %w", method, path, err)
		}
	}
	h := make(http.Header)
	h.Set("Accept", "application/json")
	cred, form, err := req.authorize(ctx, h)
	if err != nil {
		c.cancelPacing(req)
		return answer{}, err
	}
	start := c.now()
	resp, err := c.send(ctx, method, req.url.String(), h, form)
	received := c.now()
	d := received.Sub(start)
	if errors.Is(err, errBodyTooLarge) {
		// Asking again would read as much again: the answer is wrong.
		c.cancelPacing(req)
		c.obs.Request(bucket, OutcomeBadResponse, d)
		hint := ""
		if method == http.MethodGet {
			hint = " (a real page is under 2 MB)"
		}
		return answer{}, fmt.Errorf("%w: %s %s: the body is larger than %s, the most Options.MaxResponseBytes allows%s",
			ErrBadResponse, method, path, formatBytes(c.opts.MaxResponseBytes), hint)
	}
	if err != nil {
		c.cancelPacing(req)
		c.obs.Request(bucket, OutcomeNetworkError, d)
		return answer{}, &sendError{err}
	}

	status := resp.StatusCode()
	header := resp.Header()
	rh := parseRateHeaders(header, received)
	if req.paced {
		if rh.bad != "" {
			c.log.Debug().Str("bucket", bucket).Str("path", path).Str("problem", rh.bad).
				Str("limit", header.Get("X-Rate-Limit-Limit")).Str("remaining", header.Get("X-Rate-Limit-Remaining")).
				Str("reset", header.Get("X-Rate-Limit-Reset")).Str("date", header.Get("Date")).
				Msg("okta rate-limit headers not believed, ignored for pacing")
		}
		c.observeDate(rh.date, received)
		c.limits.done(bucket, rh, received)
	}
	c.obs.Request(bucket, outcomeOf(status), d)
	if req.paced && rh.ok && rh.limit > 0 {
		c.obs.Remaining(bucket, rh.remaining, rh.limit)
	}
	if req.observe != nil {
		req.observe(header)
	}
	if e := c.log.Trace(); e.Enabled() {
		e.Str("method", method).Str("path", path).Str("query", redactQuery(req.url.RawQuery)).
			Int("status", status).Dur("duration", d).Str("bucket", bucket).
			Int("remaining", rh.remaining).Int("limit", rh.limit).Int("attempt", n).
			Str("request_id", header.Get("X-Okta-Request-Id")).Msg("okta request")
	}

	r := &Response{
		StatusCode: status,
		Header:     header,
		NextPage:   nextLink(header.Values("Link")),
		Bucket:     bucket,
		RequestID:  header.Get("X-Okta-Request-Id"),
	}
	if rh.ok {
		r.Rate = RateState{Limit: rh.limit, Remaining: rh.remaining, Reset: rh.reset}
	}
	a := answer{resp: r, body: resp.Body(), credential: cred, reset: rh.untilReset()}
	if status >= 200 && status < 300 {
		return a, nil
	}
	return a, c.checkResponse(req, status, a.body, n)
}

// cancelPacing gives back the budget a paced attempt took and did not use.
func (c *Client) cancelPacing(req *request) {
	if req.paced {
		c.limits.cancel(req.bucket)
	}
}

// checkResponse builds the *Error of an error answer to req.
func (c *Client) checkResponse(req *request, status int, body []byte, attempts int) *Error {
	e := &Error{StatusCode: status, Method: req.method, Path: req.url.Path, Attempts: attempts}
	if req.readError != nil {
		req.readError(e, body)
	}
	if req.ex.text != "" {
		e.Expression, e.ExpressionKind = req.ex.text, req.ex.kind
	}
	return e
}

// readAPIError fills e from an API error body.
func readAPIError(e *Error, body []byte) {
	var b errorBody
	if json.Unmarshal(body, &b) != nil {
		return
	}
	e.Code, e.Summary, e.ID, e.Link = b.ErrorCode, b.ErrorSummary, b.ErrorID, b.ErrorLink
	for _, cause := range b.ErrorCauses {
		if cause.ErrorSummary != "" {
			e.Causes = append(e.Causes, cause.ErrorSummary)
		}
	}
}

// redactQuery returns a raw query fit for a log: the value of every
// parameter whose name looks like a credential's is replaced by REDACTED.
// A query with nothing to redact is returned as it is.
func redactQuery(raw string) string {
	if raw == "" {
		return raw
	}
	pairs := strings.Split(raw, "&")
	redacted := false
	for i, p := range pairs {
		if name, _, ok := strings.Cut(p, "="); ok && credentialName(name) {
			pairs[i] = name + "=REDACTED"
			redacted = true
		}
	}
	if !redacted {
		return raw
	}
	return strings.Join(pairs, "&")
}

// credentialWords are the words that make a query parameter's name look like
// a credential's, alone or as its last word: token, access_token, id_token,
// client_secret, api_key, apikey, X-Amz-Signature and the like.
var credentialWords = []string{"token", "secret", "password", "key", "signature", "sig", "assertion", "code"}

// credentialName reports whether a query parameter's name (still
// percent-encoded) looks like a credential's: compared case-insensitively,
// one of its words (split at anything but letters and digits) is a
// credential word, or the name ends in one.
func credentialName(name string) bool {
	if n, err := url.QueryUnescape(name); err == nil {
		name = n
	}
	name = strings.ToLower(name)
	joined := strings.Map(func(r rune) rune {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			return r
		}
		return -1
	}, name)
	for _, w := range credentialWords {
		if strings.HasSuffix(joined, w) {
			return true
		}
	}
	for word := range strings.FieldsFuncSeq(name, func(r rune) bool { return (r < 'a' || r > 'z') && (r < '0' || r > '9') }) {
		for _, w := range credentialWords {
			if word == w {
				return true
			}
		}
	}
	return false
}

// send performs one HTTP request, holding one of the concurrency slots, with
// the per-request timeout.
func (c *Client) send(ctx context.Context, method, rawURL string, h http.Header, form url.Values) (*resty.Response, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.slots }()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()
	req := c.rc.R().SetContext(rctx)
	for k, vs := range h {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if form != nil {
		req.SetFormDataFromValues(form)
	}
	c.calls.Add(1)
	// The body is read here rather than by resty, which would grow its
	// buffer by a quarter at a time up to the limit: reading a body that
	// is too large would then allocate five times the limit.
	resp, err := req.SetDoNotParseResponse(true).Execute(method, rawURL)
	if err != nil {
		return resp, err
	}
	defer resp.RawBody().Close()
	body, err := readBody(resp.RawResponse, c.opts.MaxResponseBytes)
	if err != nil {
		return resp, err
	}
	return resp.SetBody(body), nil
}

// errBodyTooLarge is send's error for a body over Options.MaxResponseBytes.
var errBodyTooLarge = errors.New("response body too large")

// readBody reads a response body, inflated when it is gzip-encoded and the
// transport did not inflate it, and fails with errBodyTooLarge past limit
// bytes after inflation (a small gzip body can inflate to gigabytes). A
// body of known length is read into one buffer of its size, or refused
// unread; one of unknown length in growing chunks, so that refusing it
// holds no more than the limit.
func readBody(resp *http.Response, limit int) ([]byte, error) {
	r, size := io.Reader(resp.Body), resp.ContentLength
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		defer zr.Close()
		r, size = zr, -1
	}
	if size > int64(limit) {
		return nil, errBodyTooLarge
	}
	if size >= 0 {
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	var (
		chunks [][]byte
		cur    []byte
		total  int
	)
	for next := 64 << 10; ; {
		if len(cur) == cap(cur) {
			if cur != nil {
				chunks = append(chunks, cur)
			}
			// One byte past the limit tells a body of exactly the limit
			// from a longer one.
			cur = make([]byte, 0, min(next, limit+1-total))
			next = min(2*next, 4<<20)
		}
		n, err := r.Read(cur[len(cur):cap(cur)])
		cur = cur[:len(cur)+n]
		total += n
		switch {
		case total > limit:
			return nil, errBodyTooLarge
		case err == io.EOF:
			if chunks == nil {
				return cur, nil
			}
			return bytes.Join(append(chunks, cur), nil), nil
		case err != nil:
			return nil, err
		}
	}
}

// formatBytes writes n in MiB when it is a whole number of them, in bytes
// otherwise.
func formatBytes(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// backoffDelay is the exponential backoff before retry n (1-based) with
// jitter: between half and all of base·2^(n-1), at most 30 s.
func (c *Client) backoffDelay(n int) time.Duration {
	d := c.opts.RetryBaseDelay << min(n-1, 16)
	if d <= 0 || d > 30*time.Second {
		d = 30 * time.Second
	}
	return d/2 + rand.N(d/2+1)
}

func (c *Client) backoff(ctx context.Context, bucket string, n int) error {
	return c.sleep(ctx, bucket, c.backoffDelay(n), false)
}

// rateWait records time a request of bucket waited for rate-limit budget.
func (c *Client) rateWait(bucket string, d time.Duration) {
	c.limits.addPaced(bucket, d)
	c.obs.RateWait(bucket, d)
}

// sleep waits d or until ctx is done.
func (c *Client) sleep(ctx context.Context, bucket string, d time.Duration, rateWait bool) error {
	if rateWait {
		defer c.rateWait(bucket, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
