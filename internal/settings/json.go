package settings

import (
	"bytes"
	"encoding/json"
	"fmt"
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
