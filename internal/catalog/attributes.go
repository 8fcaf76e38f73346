package catalog

import (
	"slices"
	"strings"
)

// attrTarget is where one profile attribute, or a transform's template,
// goes: an annotation or a label.
type attrTarget struct {
	attr  string
	key   string
	label bool
	tmpl  *fieldTemplate // the value's template, instead of attr
}

// attrTargets lists the annotation and label targets of the allowlist and
// the mappings, allowlist first, in the order configured.
func attrTargets(allow []string, mappings []AttributeMapping) []attrTarget {
	var out []attrTarget
	for _, a := range allow {
		if a == "" {
			continue
		}
		out = append(out, attrTarget{attr: a, key: profileAnnotationKey(a)})
	}
	for _, m := range mappings {
		if m.problem() != "" {
			continue
		}
		if m.Label != "" {
			out = append(out, attrTarget{attr: m.Attribute, key: m.Label, label: true})
		} else {
			out = append(out, attrTarget{attr: m.Attribute, key: m.Annotation})
		}
	}
	return out
}

// profileAnnotationKey is the annotation key of an allowlisted profile
// attribute: okta.com/profile.<attribute>, the attribute made a valid name
// part (cut with a suffix derived from the attribute name when long).
func profileAnnotationKey(attr string) string {
	const prefix = "profile."
	clean := sanitize(attr, false)
	if clean == "" {
		clean = "attr" + idSuffix(attr)
	}
	name := prefix + clean
	if len(name) > maxNameLen {
		name = withSuffix(name, idSuffix(attr))
	}
	return AnnotationProfilePrefix + name[len(prefix):]
}

// profileAttributes adds the configured profile attributes to the
// annotations in ann (which hold the built-in ones) and the labels to
// labels (normally empty), and returns the annotations and the labels, each
// sorted by key. A key set twice keeps
// its first value; built-in annotations are never overwritten. A label whose
// value cannot be a label value is left out, and recorded in skipped unless
// skipped is nil. Templates run on vals (nil when targets hold none); a
// template's failure is recorded too.
func profileAttributes(kind, id string, ann, labels []KeyValue, targets []attrTarget, get func(string) (string, bool), vals *attrValues, skipped *[]SkippedLabel) ([]KeyValue, []KeyValue) {
	for _, t := range targets {
		var v string
		if t.tmpl != nil {
			out, err := vals.eval(t.tmpl)
			if err != nil {
				if skipped != nil {
					*skipped = append(*skipped, SkippedLabel{Kind: kind, OktaID: id, Key: t.key, Value: err.Error(), Reason: ReasonTemplateError})
				}
				continue
			}
			if v = strings.TrimSpace(out); v == "" {
				continue
			}
		} else {
			var ok bool
			if v, ok = get(t.attr); !ok {
				continue
			}
		}
		if !t.label {
			if _, dup := lookup(ann, t.key); !dup {
				ann = append(ann, KeyValue{t.key, strings.ToValidUTF8(v, "\ufffd")})
			}
			continue
		}
		lv := sanitize(v, false)
		switch {
		case lv == "":
			if skipped != nil {
				*skipped = append(*skipped, SkippedLabel{Kind: kind, OktaID: id, Key: t.key, Value: v, Reason: ReasonInvalidValue})
			}
			continue
		case len(lv) > maxNameLen:
			if skipped != nil {
				*skipped = append(*skipped, SkippedLabel{Kind: kind, OktaID: id, Key: t.key, Value: v, Reason: ReasonValueTooLong})
			}
			continue
		}
		if _, dup := lookup(labels, t.key); !dup {
			labels = append(labels, KeyValue{t.key, lv})
		}
	}
	sortKV(ann)
	sortKV(labels)
	return ann, labels
}

func sortKV(kvs []KeyValue) {
	slices.SortFunc(kvs, func(a, b KeyValue) int { return strings.Compare(a.Key, b.Key) })
}
