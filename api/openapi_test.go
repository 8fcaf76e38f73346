package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	oktaentityprovider "github.com/okta-entity-provider/okta-entity-provider"
)

// specURL is the name the OpenAPI document is known by to the schema compiler.
const specURL = "file:///openapi.json"

// spec is openapi.yaml, loaded to check routes and responses against.
type spec struct {
	doc      map[string]any
	compiler *jsonschema.Compiler

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema // by JSON pointer
	seen    map[string]bool               // "METHOD path status" answered so far
}

// loadSpec parses openapi.yaml into the JSON data model and registers it
// with a JSON Schema 2020-12 compiler (the dialect of OpenAPI 3.1 schemas).
func loadSpec(t *testing.T) *spec {
	t.Helper()
	var raw any
	if err := yaml.Unmarshal(oktaentityprovider.OpenAPI, &raw); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	doc, err := jsonModel(raw)
	if err != nil {
		t.Fatalf("openapi.yaml as JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(specURL, doc); err != nil {
		t.Fatalf("add openapi.yaml to the schema compiler: %v", err)
	}
	m, ok := doc.(map[string]any)
	if !ok || m["openapi"] != "3.1.0" {
		t.Fatalf("openapi.yaml is not an OpenAPI 3.1.0 document")
	}
	return &spec{doc: m, compiler: c, schemas: map[string]*jsonschema.Schema{}, seen: map[string]bool{}}
}

// jsonModel converts a decoded YAML value to the JSON data model the schema
// validator works on.
func jsonModel(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// at returns the value at a JSON pointer of the document.
func (s *spec) at(ptr string) (any, bool) {
	var v any = s.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return v, true
}

// deref follows $ref from the object at ptr and returns the pointer of the
// object it ends at.
func (s *spec) deref(ptr string) string {
	for range 10 {
		v, _ := s.at(ptr)
		m, _ := v.(map[string]any)
		ref, ok := m["$ref"].(string)
		if !ok {
			return ptr
		}
		ptr = ref
	}
	return ptr
}

func escapePointer(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// schema compiles (once) the schema at a JSON pointer of the document.
func (s *spec) schema(ptr string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.schemas[ptr]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(specURL + ptr)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", ptr, err)
	}
	s.schemas[ptr] = sch
	return sch, nil
}

// validate validates v against the schema at ptr.
func (s *spec) validate(ptr string, v any) error {
	sch, err := s.schema(ptr)
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// operations returns "METHOD path" for every operation of the document.
func (s *spec) operations() []string {
	var ops []string
	paths, _ := s.doc["paths"].(map[string]any)
	for path, item := range paths {
		m, _ := item.(map[string]any)
		for method := range m {
			switch method {
			case "get", "head", "post", "put", "patch", "delete", "options":
				ops = append(ops, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(ops)
	return ops
}

// route returns the spec path a request path falls under.
func (s *spec) route(path string) (string, bool) {
	paths, _ := s.doc["paths"].(map[string]any)
	for p := range paths {
		re := "^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$"
		if regexp.MustCompile(re).MatchString(path) {
			return p, true
		}
	}
	return "", false
}

// statuses returns "METHOD path status" for every documented response.
func (s *spec) statuses() []string {
	var out []string
	for _, op := range s.operations() {
		method, path, _ := strings.Cut(op, " ")
		v, _ := s.at("#/paths/" + escapePointer(path) + "/" + strings.ToLower(method) + "/responses")
		for status := range v.(map[string]any) {
			out = append(out, op+" "+status)
		}
	}
	slices.Sort(out)
	return out
}

// check holds one real response to the document: the operation and the
// status must be documented, every required header present and every
// documented header valid, and the body must match the media type's schema.
// Multi-document YAML entity bodies are checked document by document
// against the Entity schema.
func (s *spec) check(method, path string, res *http.Response, body []byte) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	route, ok := s.route(path)
	if !ok {
		fail("%s %s: path not in openapi.yaml", method, path)
		return errs
	}
	opPtr := "#/paths/" + escapePointer(route) + "/" + strings.ToLower(method)
	if _, ok := s.at(opPtr); !ok {
		fail("%s %s: operation not in openapi.yaml", method, route)
		return errs
	}
	status := strconv.Itoa(res.StatusCode)
	respPtr := opPtr + "/responses/" + status
	if _, ok := s.at(respPtr); !ok {
		fail("%s %s: status %s not documented", method, route, status)
		return errs
	}
	s.mu.Lock()
	s.seen[method+" "+route+" "+status] = true
	s.mu.Unlock()
	respPtr = s.deref(respPtr)

	if hv, ok := s.at(respPtr + "/headers"); ok {
		for name := range hv.(map[string]any) {
			hPtr := s.deref(respPtr + "/headers/" + escapePointer(name))
			h, _ := s.at(hPtr)
			required, _ := h.(map[string]any)["required"].(bool)
			values := res.Header.Values(name)
			if len(values) == 0 {
				if required {
					fail("%s %s %s: required header %s missing", method, route, status, name)
				}
				continue
			}
			for _, v := range values {
				if err := s.validate(hPtr+"/schema", v); err != nil {
					fail("%s %s %s: header %s: %q: %v", method, route, status, name, v, err)
				}
			}
		}
	}

	content, hasContent := s.at(respPtr + "/content")
	if !hasContent {
		if len(body) > 0 {
			fail("%s %s %s: got a %d-byte body, the document says none", method, route, status, len(body))
		}
		return errs
	}
	if method == http.MethodHead {
		if len(body) > 0 {
			fail("HEAD %s %s: got a %d-byte body", route, status, len(body))
		}
		return errs
	}
	mediaType, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil {
		fail("%s %s %s: Content-Type %q: %v", method, route, status, res.Header.Get("Content-Type"), err)
		return errs
	}
	if _, ok := content.(map[string]any)[mediaType]; !ok {
		fail("%s %s %s: media type %s not documented", method, route, status, mediaType)
		return errs
	}
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			fail("%s %s %s: gzip: %v", method, route, status, err)
			return errs
		}
		if body, err = io.ReadAll(zr); err != nil {
			fail("%s %s %s: gunzip: %v", method, route, status, err)
			return errs
		}
	}
	schemaPtr := respPtr + "/content/" + escapePointer(mediaType) + "/schema"
	switch {
	case mediaType == "application/json":
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			fail("%s %s %s: body is not JSON: %v", method, route, status, err)
			return errs
		}
		if err := s.validate(schemaPtr, v); err != nil {
			fail("%s %s %s: body does not match %s: %v", method, route, status, schemaPtr, err)
		}
	default:
		if err := s.validate(schemaPtr, string(body)); err != nil {
			fail("%s %s %s: body does not match %s: %v", method, route, status, schemaPtr, err)
		}
		if mediaType == "application/yaml" && strings.HasPrefix(route, "/entities") {
			errs = append(errs, s.checkEntities(method+" "+route, body)...)
		}
	}
	return errs
}

// checkEntities checks every document of a multi-document YAML body against
// the Entity schema.
func (s *spec) checkEntities(what string, body []byte) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	dec := yaml.NewDecoder(bytes.NewReader(body))
	for i := 0; ; i++ {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return errs
		}
		if err != nil {
			fail("%s: document %d: %v", what, i, err)
			return errs
		}
		v, err := jsonModel(doc)
		if err != nil {
			fail("%s: document %d: %v", what, i, err)
			continue
		}
		if err := s.validate("#/components/schemas/Entity", v); err != nil {
			fail("%s: document %d is not a valid entity: %v", what, i, err)
		}
	}
}

// TestRoutesMatchSpec checks that every chi route is documented in
// openapi.yaml and every documented operation is routed.
func TestRoutesMatchSpec(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	h := NewServer(zerolog.Nop(), &fakeSource{}, nil, nil, Config{})
	routes, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("NewServer returned %T, not a chi router", h)
	}
	var routed []string
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed = append(routed, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(routed)
	documented := s.operations()
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("openapi.yaml documents %s, which is not routed", d)
		}
	}
	if len(routed) == 0 {
		t.Error("no routes")
	}
}

// TestSpecSchemas compiles every schema of the document, so a broken one
// fails here rather than only when a response reaches it.
func TestSpecSchemas(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	schemas, _ := s.at("#/components/schemas")
	for name := range schemas.(map[string]any) {
		if _, err := s.schema("#/components/schemas/" + name); err != nil {
			t.Error(err)
		}
	}
	// The checker itself must reject what the document forbids.
	bad := []struct {
		schema string
		value  string
	}{
		{"Status", `{"syncs": {"completed": 1, "failed": 0}}`},
		{"Status", `{"syncs": {"completed": 1, "failed": 0}, "lastSync": {"outcome": "maybe"}, "snapshot": null, "heldBack": null, "report": null, "rateLimits": {}, "snapshotAgeSeconds": null, "changes": null}`},
		{"Entity", `{"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "-bad"}, "spec": {"memberOf": []}}`},
		{"Entity", `{"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "alice"}, "spec": {}}`},
		{"Entity", `{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "team"}, "spec": {"type": "team"}}`},
		{"Error", `{"message": "x"}`},
	}
	for _, b := range bad {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(b.value))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.validate("#/components/schemas/"+b.schema, v); err == nil {
			t.Errorf("schema %s accepted %s", b.schema, b.value)
		}
	}
}

// orgsStatusBody is a /status body of two orgs that openapi.yaml allows;
// TestCheckRejects breaks it one way at a time.
const orgsStatusBody = `{"syncs":{"completed":2,"failed":0},` +
	`"lastSync":{"mode":"incremental","startedAt":"2026-01-01T00:00:00Z","finishedAt":"2026-01-01T00:00:01Z","durationSeconds":1,"outcome":"ok","oktaCalls":3},` +
	`"snapshot":null,"heldBack":null,"rateLimits":{},"snapshotAgeSeconds":null,"changes":null,"progress":null,` +
	`"report":{"users":2,"groups":2,"memberships":2,"inputUsers":2,"inputGroups":2,` +
	`"renames":[{"kind":"User","oktaId":"00u1","from":"alice","to":"alice-00u1","reason":"collision","org":"globex"}],"renamesTotal":1,` +
	`"droppedRefs":[],"droppedRefsTotal":0,"brokenHierarchy":[],"brokenHierarchyTotal":0,"skippedLabels":[],"skippedLabelsTotal":0,` +
	`"orgs":[{"name":"acme","users":1,"groups":1,"memberships":1,"inputUsers":1,"inputGroups":1},` +
	`{"name":"globex","users":1,"groups":1,"memberships":1,"inputUsers":1,"inputGroups":2}]},` +
	`"orgs":[{"name":"acme","lastSync":null,"lastSuccessAt":null,"failuresInARow":0,"rateLimits":{},"changes":null,"progress":null},` +
	`{"name":"globex","lastSync":{"mode":"full","startedAt":"2026-01-01T00:00:00Z","finishedAt":"2026-01-01T00:00:01Z","durationSeconds":1,"outcome":"failed","error":"503","oktaCalls":5},` +
	`"lastSuccessAt":"2026-01-01T00:00:00Z","failuresInARow":2,"rateLimits":{"users":{"limit":600,"remaining":590,"reset":"2026-01-01T00:01:00Z"}},"changes":null,"progress":null}]}`

// describe is used in failure messages.
func describe(r *http.Request) string {
	return fmt.Sprintf("%s %s", r.Method, r.URL.RequestURI())
}

// TestCheckRejects makes sure the conformance check can fail: each response
// here breaks openapi.yaml in one way.
func TestCheckRejects(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	goodYAML := "---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: alice\nspec:\n  memberOf: []\n"
	entityHeaders := func() http.Header {
		return http.Header{
			"Etag":          {`"0123456789abcdef0123456789abcdef"`},
			"Vary":          {"Accept, Accept-Encoding"},
			"Cache-Control": {"no-cache"},
			"Content-Type":  {"application/yaml"},
		}
	}
	tests := []struct {
		name   string
		method string
		path   string
		status int
		header http.Header
		body   string
	}{
		{"undocumented path", "GET", "/nope", 200, http.Header{}, ""},
		{"undocumented method", "DELETE", "/entities", 200, http.Header{}, ""},
		{"undocumented status", "GET", "/entities", 418, http.Header{}, ""},
		{"missing ETag", "GET", "/entities", 200, func() http.Header { h := entityHeaders(); h.Del("Etag"); return h }(), goodYAML},
		{"weak ETag", "GET", "/entities", 200, func() http.Header {
			h := entityHeaders()
			h.Set("Etag", `W/"0123456789abcdef0123456789abcdef"`)
			return h
		}(), goodYAML},
		{"undocumented media type", "GET", "/entities", 200, func() http.Header { h := entityHeaders(); h.Set("Content-Type", "text/html"); return h }(), goodYAML},
		{"invalid entity name", "GET", "/entities", 200, entityHeaders(), strings.Replace(goodYAML, "alice", "-alice", 1)},
		{"user without memberOf", "GET", "/entities", 200, entityHeaders(), strings.Replace(goodYAML, "  memberOf: []\n", "  profile: {email: a@b}\n", 1)},
		{"JSON entity array of strings", "GET", "/entities", 200, func() http.Header { h := entityHeaders(); h.Set("Content-Type", "application/json"); return h }(), `["x"]`},
		{"body on 304", "GET", "/entities", 304, entityHeaders(), "x"},
		{"503 without Retry-After", "GET", "/entities", 503, http.Header{"Content-Type": {"application/json"}}, `{"error":"x"}`},
		{"status missing fields", "GET", "/status", 200, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}, `{"syncs":{"completed":1,"failed":0}}`},
		{"status bad outcome", "GET", "/status", 200, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
			`{"syncs":{"completed":1,"failed":0},"lastSync":{"mode":"full","startedAt":"2026-01-01T00:00:00Z","finishedAt":"2026-01-01T00:00:01Z","durationSeconds":1,"outcome":"meh","oktaCalls":1},"snapshot":null,"heldBack":null,"report":null,"rateLimits":{},"snapshotAgeSeconds":null,"changes":null}`},
		{"status bad time", "GET", "/status", 200, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
			`{"syncs":{"completed":1,"failed":0},"lastSync":null,"snapshot":{"users":1,"groups":1,"etag":"\"x\"","builtAt":"yesterday"},"heldBack":null,"report":null,"rateLimits":{},"snapshotAgeSeconds":null,"changes":null}`},
		{"org status missing failuresInARow", "GET", "/status", 200, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
			strings.Replace(orgsStatusBody, `"failuresInARow":0,`, "", 1)},
		{"org status unknown field", "GET", "/status", 200, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
			strings.Replace(orgsStatusBody, `"failuresInARow":0,`, `"failuresInARow":0,"failures":0,`, 1)},
		{"org status bad name", "GET", "/status", 200, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
			strings.Replace(orgsStatusBody, `"name":"acme"`, `"name":"Acme"`, 1)},
		{"empty orgs", "GET", "/status", 200, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
			strings.Replace(orgsStatusBody, `"orgs":[{"name":"acme"`, `"orgs":[],"x":[{"name":"acme"`, 1)},
		{"org report missing inputGroups", "GET", "/status", 200, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
			strings.Replace(orgsStatusBody, `,"inputGroups":2}`, "}", 1)},
		{"rename unknown field", "GET", "/status", 200, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
			strings.Replace(orgsStatusBody, `"org":"globex"`, `"orgName":"globex"`, 1)},
		{"error body shape", "GET", "/readyz", 503, http.Header{"Content-Type": {"application/json"}, "Retry-After": {"30"}}, `{"message":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := &http.Response{StatusCode: tt.status, Header: tt.header}
			if errs := s.check(tt.method, tt.path, res, []byte(tt.body)); len(errs) == 0 {
				t.Errorf("check accepted %s %s %d %v %q", tt.method, tt.path, tt.status, tt.header, tt.body)
			}
		})
	}
	// And the good ones pass, so the failures above are for their reason.
	res := &http.Response{StatusCode: 200, Header: entityHeaders()}
	if errs := s.check("GET", "/entities", res, []byte(goodYAML)); len(errs) > 0 {
		t.Errorf("check refused a good response: %v", errs)
	}
	res = &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}}
	if errs := s.check("GET", "/status", res, []byte(orgsStatusBody)); len(errs) > 0 {
		t.Errorf("check refused a good status of two orgs: %v", errs)
	}
}
