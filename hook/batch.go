package hook

import (
	"strings"

	"github.com/ccotel/ccotel/internal/utf8cut"
)

// BatchCall is one element of PostToolBatch's tool_calls: the call's id
// and tool, and whether Claude Code rejected it before running it (its
// tool_response is a string that starts with toolUseError: input
// validation failed, or the tool does not exist). Such a call fires no
// PreToolUse and no Post event; PostToolBatch is the only report of it.
type BatchCall struct {
	ToolUseID string
	ToolName  string
	Rejected  bool
	// Message is the result's text (a rejection's without the tag), its
	// first batchMessageCap bytes; "" for a result that is not a string.
	Message string
}

const (
	toolUseError    = "<tool_use_error>"
	batchMessageCap = 512
	// maxBatchCalls bounds the calls kept of one batch; more are counted
	// in ToolBatchSize only.
	maxBatchCalls = 256
)

// batch scans PostToolBatch's tool_calls array (the next byte is '['),
// keeping per element what BatchCall holds. Like composite it checks
// brackets, not commas, and counts elements the same way (commas + 1).
func (s *scanner) batch(v *rawValue) error {
	s.consume(1)
	commas, items := 0, false
	for {
		c, ok := s.peek()
		if !ok {
			return s.truncated()
		}
		switch c {
		case ']':
			s.consume(1)
			if items {
				v.elems = commas + 1
			}
			return nil
		case ',':
			commas++
			s.consume(1)
			continue
		case ':':
			s.consume(1)
			continue
		case '}':
			return errSyntax
		}
		items = true
		if c == '{' {
			bc, err := s.batchCall()
			if err != nil {
				return err
			}
			if len(v.calls) < maxBatchCalls {
				v.calls = append(v.calls, bc)
			}
		} else if err := s.value(&rawValue{}, false); err != nil {
			return err
		}
	}
}

// batchCall scans one element object of tool_calls. Like composite it
// checks brackets, not the grammar of the members.
func (s *scanner) batchCall() (BatchCall, error) {
	var bc BatchCall
	s.consume(1) // '{'
	expectKey, keyRead, key := true, false, ""
	for {
		c, ok := s.peek()
		if !ok {
			return bc, s.truncated()
		}
		switch c {
		case '}':
			s.consume(1)
			return bc, nil
		case ']':
			return bc, errSyntax
		case ',':
			s.consume(1)
			expectKey, keyRead, key = true, false, ""
		case ':':
			s.consume(1)
			expectKey = false
		case '"':
			if expectKey {
				raw, n, err := s.token(s.str, keyCap+1)
				if err != nil {
					return bc, err
				}
				key = ""
				if n <= keyCap && !keyRead {
					key = decodeString(raw)
				}
				keyRead = true
				continue
			}
			max := maxIdent + 1
			if key == "tool_response" {
				max = len(toolUseError) + batchMessageCap + 1
			}
			raw, n, err := s.token(s.str, max)
			if err != nil {
				return bc, err
			}
			bc.set(key, decodeString(closeString(raw, n)))
		case '{', '[':
			if err := s.value(&rawValue{}, false); err != nil {
				return bc, err
			}
		default:
			if _, err := s.scalar(); err != nil {
				return bc, err
			}
			if expectKey {
				key, keyRead = "", true
			}
		}
	}
}

func (bc *BatchCall) set(key, str string) {
	switch key {
	case "tool_use_id":
		bc.ToolUseID = capIdent(str)
	case "tool_name":
		bc.ToolName = capIdent(str)
	case "tool_response":
		msg, ok := strings.CutPrefix(str, toolUseError)
		bc.Rejected = ok
		if ok {
			msg = strings.TrimSuffix(msg, "</tool_use_error>")
		}
		bc.Message = utf8cut.Prefix(msg, batchMessageCap)
	}
}

// closeString turns the captured prefix raw of a JSON string of n bytes
// into a whole JSON string: a prefix gets its closing quote (an escape cut
// in half decodes as best it can).
func closeString(raw []byte, n int64) []byte {
	if int64(len(raw)) < n {
		return append(raw[:len(raw):len(raw)], '"')
	}
	return raw
}
