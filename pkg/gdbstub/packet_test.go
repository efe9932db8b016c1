package gdbstub

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readAll(t *testing.T, in string) []item {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(in))
	var items []item
	for {
		it, err := readItem(r)
		if errors.Is(err, io.EOF) {
			return items
		}
		require.NoError(t, err)
		items = append(items, it)
	}
}

func TestReadItems(t *testing.T) {
	items := readAll(t, "+junk-\x03$g#67$m0,4#fd$qC#b4")
	require.Len(t, items, 6)
	require.Equal(t, itemAck, items[0].kind)
	require.Equal(t, itemNak, items[1].kind)
	require.Equal(t, itemInterrupt, items[2].kind)
	for i, want := range []string{"g", "m0,4", "qC"} {
		it := items[3+i]
		require.Equal(t, itemPacket, it.kind)
		require.Equal(t, want, string(it.payload))
		require.False(t, it.badSum, want)
	}
}

func TestReadItemsChecksum(t *testing.T) {
	items := readAll(t, "$g#00$g#zz")
	require.Len(t, items, 2)
	require.True(t, items[0].badSum)
	require.True(t, items[1].badSum)
}

func TestReadItemsRestart(t *testing.T) {
	// A '$' inside a packet starts it again; the fragment is dropped.
	items := readAll(t, "$m0,$g#67")
	require.Len(t, items, 1)
	require.Equal(t, "g", string(items[0].payload))
}

func TestReadItemsRunLength(t *testing.T) {
	// "0* " is '0' repeated 3 more times (' ' is 32 = 29+3).
	raw := "X0,4:0* "
	items := readAll(t, string(frame([]byte(raw))))
	require.Len(t, items, 1)
	require.Equal(t, "X0,4:0000", string(items[0].payload))
	// An escaped '*' ("}\x0a") is data, and a '*' right after an escape
	// pair repeats the escaped byte's encoding as sent.
	items = readAll(t, string(frame([]byte("X0,1:}\x0a"))))
	require.Equal(t, "X0,1:}\x0a", string(items[0].payload))
	data, err := unescape(items[0].payload[5:])
	require.NoError(t, err)
	require.Equal(t, []byte("*"), data)
}

func TestReadItemsTooLong(t *testing.T) {
	long := strings.Repeat("a", maxPayload+10)
	items := readAll(t, string(frame([]byte(long)))+"$g#67")
	require.Len(t, items, 2)
	require.True(t, items[0].tooLong)
	require.Nil(t, items[0].payload)
	require.Equal(t, "g", string(items[1].payload))
	// Run-length expansion past the bound is refused too.
	bomb := "a" + strings.Repeat("*~", maxPayload/97+10)
	items = readAll(t, string(frame([]byte(bomb))))
	require.True(t, items[0].tooLong)
}

func TestEscapeRoundTrip(t *testing.T) {
	data := []byte{0, '#', '$', '}', '*', 0x7f, 0xff, 'a'}
	esc := appendEscaped(nil, data)
	for _, c := range []byte("#$*") {
		require.NotContains(t, string(esc), string(c))
	}
	out, err := unescape(append([]byte(nil), esc...))
	require.NoError(t, err)
	require.Equal(t, data, out)
	_, err = unescape([]byte("ab}"))
	require.Error(t, err)
}

func TestFrame(t *testing.T) {
	require.Equal(t, "$OK#9a", string(frame([]byte("OK"))))
	require.Equal(t, "$#00", string(frame(nil)))
}

// FuzzReadItem feeds arbitrary bytes to the packet reader: it never
// panics and never returns a payload beyond the bound.
func FuzzReadItem(f *testing.F) {
	f.Add([]byte("$g#67+-\x03"))
	f.Add([]byte("$X0,4:}\x03a*\x25#00"))
	f.Add([]byte("$a*~*~*~#11"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for {
			it, err := readItem(r)
			if err != nil {
				return
			}
			if len(it.payload) > maxPayload {
				t.Fatalf("payload of %d bytes", len(it.payload))
			}
		}
	})
}
