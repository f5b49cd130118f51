package settings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// Writing the document model back and editing it: encoding nodes, adding,
// replacing and removing members so that every byte the user wrote and
// ccotel did not change stays as it was.

// encode appends the node's JSON text to b.
func (n *node) encode(b []byte) []byte {
	switch n.kind {
	case kindScalar:
		return append(b, n.raw...)
	case kindObject:
		b = append(b, '{')
	default:
		b = append(b, '[')
	}
	if len(n.elems) == 0 {
		b = append(b, n.inner...)
	}
	for i, e := range n.elems {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.pre...)
		if n.kind == kindObject {
			b = append(b, e.key...)
			b = append(b, e.ws1...)
			b = append(b, ':')
			b = append(b, e.ws2...)
		}
		b = e.val.encode(b)
		b = append(b, e.post...)
	}
	if n.kind == kindObject {
		return append(b, '}')
	}
	return append(b, ']')
}

func (d *document) bytes() []byte {
	b := append([]byte(nil), d.lead...)
	b = d.root.encode(b)
	return append(b, d.trail...)
}

// member returns the last member named name (JSON.parse keeps the last of
// duplicate names) and its index, or nil, -1.
func (n *node) member(name string) (*elem, int) {
	if n.kind != kindObject {
		return nil, -1
	}
	for i := len(n.elems) - 1; i >= 0; i-- {
		if n.elems[i].name == name {
			return n.elems[i], i
		}
	}
	return nil, -1
}

// str returns the value of a string scalar.
func (n *node) str() (string, bool) {
	if n == nil || n.kind != kindScalar || len(n.raw) == 0 || n.raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(n.raw, &s) != nil {
		return "", false
	}
	return s, true
}

// equal reports whether n holds the same JSON value as v (a value built
// from ordered, array, string, int and bool).
func (n *node) equal(v any) bool {
	var got, want any
	if json.Unmarshal(n.encode(nil), &got) != nil {
		return false
	}
	if json.Unmarshal(buildNode(v, "", style{compact: true}).encode(nil), &want) != nil {
		return false
	}
	return reflect.DeepEqual(got, want)
}

// ordered is an object to build, in key order.
type ordered []member

type member struct {
	key string
	val any
}

// array is an array to build.
type array []any

// buildNode makes a new node for v, laid out for a value that starts on a
// line indented by indent.
func buildNode(v any, indent string, st style) *node {
	switch v := v.(type) {
	case ordered:
		n := &node{kind: kindObject, indent: indent}
		for _, m := range v {
			e := &elem{key: quote(m.key), name: m.key, ws2: []byte(st.colon)}
			e.val = buildNode(m.val, indent+st.unit, st)
			n.elems = append(n.elems, e)
		}
		layout(n, st)
		return n
	case array:
		n := &node{kind: kindArray, indent: indent}
		for _, x := range v {
			n.elems = append(n.elems, &elem{val: buildNode(x, indent+st.unit, st)})
		}
		layout(n, st)
		return n
	case string:
		return &node{kind: kindScalar, raw: quote(v)}
	case int:
		return &node{kind: kindScalar, raw: strconv.AppendInt(nil, int64(v), 10)}
	case bool:
		return &node{kind: kindScalar, raw: strconv.AppendBool(nil, v)}
	}
	panic(fmt.Sprintf("install: cannot build a JSON value from %T", v))
}

// layout sets the whitespace around a new container's elements.
func layout(n *node, st style) {
	for i, e := range n.elems {
		switch {
		case !st.compact:
			e.pre = []byte(st.nl + n.indent + st.unit)
		case i > 0:
			e.pre = []byte(st.sep)
		}
		if !st.compact && i == len(n.elems)-1 {
			e.post = []byte(st.nl + n.indent)
		}
	}
}

// quote encodes s as a JSON string without escaping <, > and &.
func quote(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// elemIndent is the indentation of the line an element of n starts on.
func (n *node) elemIndent(d *document) string {
	if len(n.elems) > 0 {
		pre := n.elems[len(n.elems)-1].pre
		if i := bytes.LastIndexByte(pre, '\n'); i >= 0 {
			return string(pre[i+1:])
		}
		return n.indent
	}
	return n.indent + d.style.unit
}

// multiline reports whether new elements of n go on their own lines.
func (n *node) multiline(d *document) bool {
	if len(n.elems) > 0 {
		return bytes.ContainsAny(n.elems[len(n.elems)-1].pre, "\n")
	}
	return !d.style.compact
}

// appendElem adds a new element (a member named key, for objects) holding v
// at the end of n, laid out like its last sibling.
func (d *document) appendElem(n *node, key string, v any) {
	st := d.style
	st.compact = !n.multiline(d)
	indent := n.elemIndent(d)
	e := &elem{val: buildNode(v, indent, st)}
	if n.kind == kindObject {
		e.key, e.name, e.ws2 = quote(key), key, []byte(st.colon)
	}
	if k := len(n.elems); k > 0 {
		last := n.elems[k-1]
		e.pre = last.pre
		if st.compact && k == 1 && st.sep != "" {
			e.pre = []byte(st.sep)
		}
		if n.kind == kindObject {
			e.ws1, e.ws2 = last.ws1, last.ws2
		}
		e.post, last.post = last.post, nil
	} else if !st.compact {
		e.pre = []byte(st.nl + indent)
		e.post = []byte(st.nl + n.indent)
	}
	n.elems = append(n.elems, e)
}

// setValue replaces the value of e, a member of n, with v.
func (d *document) setValue(n *node, e *elem, v any) {
	st := d.style
	st.compact = !bytes.ContainsAny(e.pre, "\n")
	indent := n.indent + st.unit
	if i := bytes.LastIndexByte(e.pre, '\n'); i >= 0 {
		indent = string(e.pre[i+1:])
	}
	e.val = buildNode(v, indent, st)
}

// removeElem removes the i-th element of n, keeping the layout of the rest:
// the first element's leading and the last element's trailing whitespace
// pass to the element that takes its place.
func removeElem(n *node, i int) {
	e := n.elems[i]
	switch {
	case len(n.elems) == 1:
	case i == len(n.elems)-1:
		n.elems[i-1].post = e.post
	case i == 0:
		n.elems[1].pre = e.pre
	}
	n.elems = append(n.elems[:i:i], n.elems[i+1:]...)
}
