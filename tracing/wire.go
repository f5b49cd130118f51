package tracing

// The protobuf wire format, as much of it as OTLP export needs. It is
// written here rather than imported from google.golang.org/protobuf's
// protowire because that package pulls in protobuf's internal/detrand,
// whose package initialisation opens and reads the running executable —
// in every hook process, which never encodes protobuf at all.
// TestVarintMatchesProtowire checks the varints against protowire's, and
// FuzzProtoMatchesSDK the messages against the SDK's own encoder.

type (
	wireNumber int32
	wireType   int8
)

const (
	wireVarint  wireType = 0
	wireFixed64 wireType = 1
	wireBytes   wireType = 2
	wireFixed32 wireType = 5
)

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func sizeVarint(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func appendTag(b []byte, num wireNumber, typ wireType) []byte {
	return appendVarint(b, uint64(num)<<3|uint64(typ))
}

func appendWireBytes(b, v []byte) []byte {
	return append(appendVarint(b, uint64(len(v))), v...)
}

func appendWireString(b []byte, v string) []byte {
	return append(appendVarint(b, uint64(len(v))), v...)
}

func appendWireFixed64(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

func appendWireFixed32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func encodeBool(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

// consumeVarint returns the varint at the start of b and its length, or a
// negative length when b does not start with one.
func consumeVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, -1
}

func consumeTag(b []byte) (wireNumber, wireType, int) {
	v, n := consumeVarint(b)
	if n < 0 || v>>3 == 0 || v>>3 > 1<<29-1 {
		return 0, 0, -1
	}
	return wireNumber(v >> 3), wireType(v & 7), n
}

func consumeBytes(b []byte) ([]byte, int) {
	l, n := consumeVarint(b)
	if n < 0 || l > uint64(len(b)-n) {
		return nil, -1
	}
	return b[n : n+int(l)], n + int(l)
}

// consumeFieldValue returns the length of the value of a field of type typ
// at the start of b (groups are not supported: OTLP has none).
func consumeFieldValue(typ wireType, b []byte) int {
	switch typ {
	case wireVarint:
		_, n := consumeVarint(b)
		return n
	case wireFixed64:
		if len(b) < 8 {
			return -1
		}
		return 8
	case wireFixed32:
		if len(b) < 4 {
			return -1
		}
		return 4
	case wireBytes:
		_, n := consumeBytes(b)
		return n
	}
	return -1
}
