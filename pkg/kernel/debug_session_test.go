package kernel

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// Every machine of a session reads the console input the first one read,
// in the same pieces, and reads on from the host past it.
func TestSessionInputReplays(t *testing.T) {
	l := &inputLog{r: iotest.OneByteReader(strings.NewReader("abcdef")), max: 1 << 10}
	first := &replayReader{log: l}
	buf := make([]byte, 4)
	var got []byte
	for range 3 {
		n, err := first.Read(buf)
		require.NoError(t, err)
		got = append(got, buf[:n]...)
	}
	require.Equal(t, "abc", string(got))
	second := &replayReader{log: l}
	all, err := io.ReadAll(second)
	require.NoError(t, err)
	require.Equal(t, "abcdef", string(all), "the recorded input, then the rest from the host")
	third, err := io.ReadAll(&replayReader{log: l})
	require.NoError(t, err)
	require.Equal(t, "abcdef", string(third))
}

// Past its bound, the input log says that going back is no longer exact.
func TestSessionInputBound(t *testing.T) {
	var broken error
	l := &inputLog{r: strings.NewReader(strings.Repeat("x", 100)), max: 64, broken: func(err error) { broken = err }}
	_, err := io.ReadAll(&replayReader{log: l})
	require.NoError(t, err)
	require.EqualError(t, broken, "more than 64 bytes of console input")
}

// A machine of a session writes only the bytes no earlier machine wrote.
func TestSessionOutputOnce(t *testing.T) {
	var out bytes.Buffer
	var mark int64
	w1 := ReplayWriter(&out, &mark)
	io.WriteString(w1, "hello ")
	io.WriteString(w1, "wor")
	w2 := ReplayWriter(&out, &mark) // goes back: writes the same again, then more
	io.WriteString(w2, "hel")
	io.WriteString(w2, "lo wo")
	io.WriteString(w2, "rld\n")
	io.WriteString(w2, "bye\n")
	require.Equal(t, "hello world\nbye\n", out.String())
	require.Equal(t, int64(len("hello world\nbye\n")), mark)
}

// A failed write is reported to the guest's writer.
func TestSessionOutputError(t *testing.T) {
	var mark int64
	_, err := ReplayWriter(errWriter{}, &mark).Write([]byte("x"))
	require.Error(t, err)
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
