package settings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// This file is a small lossless JSON document model: parsing keeps every
// byte of the source (whitespace, key order, the exact text of numbers and
// strings), so writing an unmodified document reproduces the input byte for
// byte. Edits touch only the elements they add, change or remove; what they
// add copies the layout of its neighbours.

type kind int

const (
	kindScalar kind = iota // string, number, true, false, null
	kindObject
	kindArray
)

// node is one JSON value.
type node struct {
	kind   kind
	raw    []byte  // scalars: the exact source text ("\u00e9", 1e3, true)
	elems  []*elem // objects and arrays
	inner  []byte  // whitespace between the brackets of an empty container
	indent string  // leading whitespace of the line the value starts on
}

// elem is one member of an object or one element of an array, with the
// whitespace around it: pre key ws1 ':' ws2 value post. Separating commas
// are implied between elements.
type elem struct {
	pre  []byte
	key  []byte // raw key token with its quotes (objects only)
	name string // decoded key
	ws1  []byte
	ws2  []byte
	val  *node
	post []byte
}

// document is a whole settings.json: whitespace, the root object, whitespace.
type document struct {
	lead, trail []byte
	root        *node
	style       style
}

// style is the layout new elements get when nothing next to them says
// otherwise: the file's indent unit, its spacing after ':' and between
// elements on one line, and whether the file is written on one line.
type style struct {
	unit    string
	colon   string
	sep     string
	nl      string // "\n", or "\r\n" in a file with CRLF line ends
	compact bool
}

// SyntaxError reports invalid JSON at a 1-based line and column (counted in
// characters).
type SyntaxError struct {
	Line, Column int
	Msg          string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

const maxDepth = 512

type parser struct {
	src   []byte
	pos   int
	depth int
	colon []byte // first ws2 seen
	sep   []byte // first one-line separator seen
	unit  string // first indent step seen
}

// parseDocument parses a settings file. Whitespace-only input is an empty
// object. The top-level value must be an object.
func parseDocument(src []byte) (*document, error) {
	p := &parser{src: src}
	lead := p.ws()
	if p.pos == len(src) {
		return &document{trail: []byte("\n"), root: &node{kind: kindObject}, style: style{unit: "  ", colon: " ", nl: "\n"}}, nil
	}
	if src[p.pos] != '{' {
		if bytes.HasPrefix(src[p.pos:], []byte("\xef\xbb\xbf")) {
			return nil, p.errorf(p.pos, "the file starts with a byte-order mark; save it as UTF-8 without BOM")
		}
		if src[p.pos] == '/' {
			return nil, p.errorf(p.pos, "comments are not allowed in JSON")
		}
		return nil, p.errorf(p.pos, "settings must be a JSON object ({ … }), found %s", p.describe(p.pos))
	}
	root, err := p.value()
	if err != nil {
		return nil, err
	}
	trail := p.ws()
	if p.pos != len(src) {
		return nil, p.errorf(p.pos, "unexpected %s after the end of the top-level object", p.describe(p.pos))
	}
	d := &document{lead: lead, trail: trail, root: root}
	d.style = style{unit: p.unit, colon: string(p.colon), sep: string(p.sep), nl: "\n"}
	if bytes.Contains(src, []byte("\r\n")) {
		d.style.nl = "\r\n"
	}
	if d.style.unit == "" {
		d.style.unit = "  "
	}
	if p.colon == nil {
		d.style.colon = " "
	}
	d.style.compact = len(root.elems) > 0 && !bytes.Contains(root.encode(nil), []byte("\n"))
	return d, nil
}

func (p *parser) ws() []byte {
	start := p.pos
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return p.src[start:p.pos:p.pos]
		}
	}
	return p.src[start:p.pos:p.pos]
}

// lineIndent is the leading whitespace of the line holding offset off.
func (p *parser) lineIndent(off int) string {
	start := bytes.LastIndexByte(p.src[:off], '\n') + 1
	end := start
	for end < off && (p.src[end] == ' ' || p.src[end] == '\t') {
		end++
	}
	return string(p.src[start:end])
}

func (p *parser) value() (*node, error) {
	if p.pos >= len(p.src) {
		return nil, p.errorf(p.pos, "unexpected end of file, expected a value")
	}
	start := p.pos
	switch c := p.src[p.pos]; {
	case c == '{' || c == '[':
		return p.container()
	case c == '"':
		if err := p.str(); err != nil {
			return nil, err
		}
	case c == '-' || (c >= '0' && c <= '9'):
		if err := p.number(); err != nil {
			return nil, err
		}
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.src[p.pos:], []byte(lit)) {
				p.pos += len(lit)
				break
			}
		}
		if p.pos == start {
			return nil, p.errorf(start, "invalid literal, expected true, false or null")
		}
	case c == '/':
		return nil, p.errorf(start, "comments are not allowed in JSON")
	default:
		return nil, p.errorf(start, "unexpected %s, expected a value", p.describe(start))
	}
	return &node{kind: kindScalar, raw: p.src[start:p.pos:p.pos]}, nil
}

func (p *parser) container() (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	start := p.pos
	if p.depth > maxDepth {
		return nil, p.errorf(start, "nesting deeper than %d levels", maxDepth)
	}
	open := p.src[p.pos]
	closer := byte('}')
	n := &node{kind: kindObject, indent: p.lineIndent(start)}
	if open == '[' {
		closer, n.kind = ']', kindArray
	}
	p.pos++
	ws := p.ws()
	if p.pos < len(p.src) && p.src[p.pos] == closer {
		n.inner = ws
		p.pos++
		return n, nil
	}
	for {
		e := &elem{pre: ws}
		if n.kind == kindObject {
			if p.pos >= len(p.src) {
				return nil, p.errorf(p.pos, "unexpected end of file in the object that starts at %s", p.at(start))
			}
			if p.src[p.pos] != '"' {
				if p.src[p.pos] == closer && len(n.elems) > 0 {
					return nil, p.errorf(p.pos, "trailing comma before '}'")
				}
				if p.src[p.pos] == '/' {
					return nil, p.errorf(p.pos, "comments are not allowed in JSON")
				}
				return nil, p.errorf(p.pos, "unexpected %s, expected a quoted member name", p.describe(p.pos))
			}
			ks := p.pos
			if err := p.str(); err != nil {
				return nil, err
			}
			e.key = p.src[ks:p.pos:p.pos]
			if err := json.Unmarshal(e.key, &e.name); err != nil {
				return nil, p.errorf(ks, "invalid string: %v", err)
			}
			e.ws1 = p.ws()
			if p.pos >= len(p.src) || p.src[p.pos] != ':' {
				return nil, p.errorf(p.pos, "unexpected %s, expected ':' after member name %s", p.describe(p.pos), e.key)
			}
			p.pos++
			e.ws2 = p.ws()
			if p.colon == nil {
				p.colon = e.ws2
			}
		} else if p.pos < len(p.src) && p.src[p.pos] == closer {
			return nil, p.errorf(p.pos, "trailing comma before ']'")
		}
		if p.unit == "" && len(n.elems) == 0 {
			if i := bytes.LastIndexByte(ws, '\n'); i >= 0 {
				if in := string(ws[i+1:]); len(in) > len(n.indent) && in[:len(n.indent)] == n.indent {
					p.unit = in[len(n.indent):]
				}
			}
		}
		if p.sep == nil && len(n.elems) > 0 && !bytes.ContainsAny(ws, "\r\n") {
			p.sep = ws
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		e.val = v
		e.post = p.ws()
		n.elems = append(n.elems, e)
		if p.pos >= len(p.src) {
			return nil, p.errorf(p.pos, "unexpected end of file, missing '%c' for the %s that starts at %s", closer, n.kindName(), p.at(start))
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
			ws = p.ws()
		case closer:
			p.pos++
			return n, nil
		default:
			return nil, p.errorf(p.pos, "unexpected %s, expected ',' or '%c'", p.describe(p.pos), closer)
		}
	}
}

func (p *parser) str() error {
	start := p.pos
	p.pos++ // opening quote
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return nil
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return p.errorf(p.pos, "unterminated string")
			}
			switch p.src[p.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos += 2
			case 'u':
				if p.pos+6 > len(p.src) {
					return p.errorf(p.pos, "invalid \\u escape")
				}
				if _, err := strconv.ParseUint(string(p.src[p.pos+2:p.pos+6]), 16, 16); err != nil {
					return p.errorf(p.pos, "invalid \\u escape")
				}
				p.pos += 6
			default:
				return p.errorf(p.pos, "invalid escape \\%c in string", p.src[p.pos+1])
			}
		case c < 0x20:
			if c == '\n' {
				return p.errorf(start, "unterminated string (a newline inside a string must be written \\n)")
			}
			return p.errorf(p.pos, "control character 0x%02x inside a string", c)
		default:
			p.pos++
		}
	}
	return p.errorf(start, "unterminated string")
}

func (p *parser) number() error {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.src[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.src) && p.src[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return p.errorf(start, "invalid number")
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return p.errorf(start, "invalid number")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return p.errorf(start, "invalid number")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9') {
		return p.errorf(start, "invalid number (leading zero)")
	}
	return nil
}

// describe names the token at off for an error message.
func (p *parser) describe(off int) string {
	if off >= len(p.src) {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(p.src[off:])
	if r == utf8.RuneError {
		return fmt.Sprintf("byte 0x%02x", p.src[off])
	}
	return strconv.QuoteRune(r)
}

func (p *parser) position(off int) (line, col int) {
	line = 1 + bytes.Count(p.src[:off], []byte("\n"))
	col = 1 + utf8.RuneCount(p.src[bytes.LastIndexByte(p.src[:off], '\n')+1:off])
	return line, col
}

func (p *parser) at(off int) string {
	l, c := p.position(off)
	return fmt.Sprintf("line %d, column %d", l, c)
}

func (p *parser) errorf(off int, format string, args ...any) error {
	l, c := p.position(off)
	return &SyntaxError{Line: l, Column: c, Msg: fmt.Sprintf(format, args...)}
}

func (n *node) kindName() string {
	switch n.kind {
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	}
	switch {
	case len(n.raw) > 0 && n.raw[0] == '"':
		return "string"
	case string(n.raw) == "null":
		return "null"
	case string(n.raw) == "true" || string(n.raw) == "false":
		return "boolean"
	}
	return "number"
}

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
