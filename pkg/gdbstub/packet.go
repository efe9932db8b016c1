package gdbstub

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// PacketSize is the largest packet payload the stub accepts, advertised in
// qSupported; gdb sizes its memory writes and reads by it.
const PacketSize = 0x4000

// maxPayload bounds a payload after run-length expansion. Longer packets
// are answered with an error and dropped.
const maxPayload = PacketSize + 256

// itemKind is what the byte stream from the debugger carried.
type itemKind int

const (
	itemPacket    itemKind = iota // $payload#cs
	itemAck                       // +
	itemNak                       // -
	itemInterrupt                 // 0x03 outside a packet
)

// item is one unit read from the debugger.
type item struct {
	kind    itemKind
	payload []byte // itemPacket: after run-length expansion, escapes kept
	badSum  bool   // checksum mismatch
	tooLong bool   // payload exceeded maxPayload and was dropped
}

// readItem reads the next item from r. Bytes outside a packet other than
// '+', '-' and 0x03 are skipped, as is a '$' that restarts an unfinished
// packet. It returns io.EOF (or the read error) at the end of the stream.
func readItem(r *bufio.Reader) (item, error) {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return item{}, err
		}
		switch c {
		case '+':
			return item{kind: itemAck}, nil
		case '-':
			return item{kind: itemNak}, nil
		case 0x03:
			return item{kind: itemInterrupt}, nil
		case '$':
			it, restart, err := readPacket(r)
			if err != nil {
				return item{}, err
			}
			if restart {
				// A '$' inside a packet: the sender restarted it.
				if err := r.UnreadByte(); err != nil {
					return item{}, err
				}
				continue
			}
			return it, nil
		}
	}
}

// readPacket reads a packet body after its '$': the payload up to '#' and
// two checksum digits. restart reports a '$' in the payload.
func readPacket(r *bufio.Reader) (it item, restart bool, err error) {
	it.kind = itemPacket
	var raw []byte
	var sum byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return it, false, err
		}
		if c == '#' {
			break
		}
		if c == '$' {
			return it, true, nil
		}
		sum += c
		if len(raw) < maxPayload {
			raw = append(raw, c)
		} else {
			it.tooLong = true
		}
	}
	var cs [2]byte
	for i := range cs {
		if cs[i], err = r.ReadByte(); err != nil {
			return it, false, err
		}
	}
	want, ok := unhex2(cs[0], cs[1])
	it.badSum = !ok || want != sum
	if it.tooLong {
		return it, false, nil
	}
	it.payload, it.tooLong = expandRuns(raw, maxPayload)
	return it, false, nil
}

// expandRuns decodes run-length encoding: "X*n" repeats X (n-29) more
// times. An escaped byte ('}' and the next) is copied as it is, so a '*'
// after '}' is data. It reports whether the result would exceed limit.
func expandRuns(raw []byte, limit int) ([]byte, bool) {
	hasRun := false
	for _, c := range raw {
		if c == '*' {
			hasRun = true
			break
		}
	}
	if !hasRun {
		return raw, false
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '}' && i+1 < len(raw):
			out = append(out, c, raw[i+1])
			i++
		case c == '*' && len(out) > 0 && i+1 < len(raw):
			n := int(raw[i+1]) - 29
			i++
			if n < 0 {
				// Not a valid count: keep the bytes as data.
				out = append(out, '*', raw[i])
				continue
			}
			if len(out)+n > limit {
				return nil, true
			}
			last := out[len(out)-1]
			for ; n > 0; n-- {
				out = append(out, last)
			}
		default:
			out = append(out, c)
		}
		if len(out) > limit {
			return nil, true
		}
	}
	return out, false
}

// unescape decodes binary data in place: '}' escapes the next byte, which
// is XORed with 0x20. A trailing '}' is an error.
func unescape(b []byte) ([]byte, error) {
	out := b[:0]
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '}' {
			i++
			if i == len(b) {
				return nil, errors.New("escape at end of data")
			}
			c = b[i] ^ 0x20
		}
		out = append(out, c)
	}
	return out, nil
}

// appendEscaped appends binary data escaped for a reply: '#', '$', '}' and
// '*' become '}' and the byte XORed with 0x20.
func appendEscaped(dst, data []byte) []byte {
	for _, c := range data {
		switch c {
		case '#', '$', '}', '*':
			dst = append(dst, '}', c^0x20)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// frame returns payload framed as $payload#cs. The payload must already be
// escaped.
func frame(payload []byte) []byte {
	var sum byte
	for _, c := range payload {
		sum += c
	}
	out := make([]byte, 0, len(payload)+4)
	out = append(out, '$')
	out = append(out, payload...)
	return fmt.Appendf(out, "#%02x", sum)
}

// unhex2 decodes two hex digits.
func unhex2(a, b byte) (byte, bool) {
	x, ok1 := unhex(a)
	y, ok2 := unhex(b)
	return x<<4 | y, ok1 && ok2
}

// unhex decodes one hex digit.
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// readItems reads items from r into ch until the stream ends, then closes
// ch after sending the final error on errc.
func readItems(r io.Reader, ch chan<- item, errc chan<- error, done <-chan struct{}) {
	br := bufio.NewReaderSize(r, 4096)
	defer close(ch)
	for {
		it, err := readItem(br)
		if err != nil {
			errc <- err
			return
		}
		select {
		case ch <- it:
		case <-done:
			errc <- errors.New("session closed")
			return
		}
	}
}
