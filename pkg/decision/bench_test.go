package decision

import (
	"io"
	"testing"
	"time"

	"github.com/spf13/afero"
)

// BenchmarkRecord measures the per-decision cost of the ring and the
// [DECISION] line (the part on the decision path; goal < 1 us).
func BenchmarkRecord(b *testing.B) {
	tr := decide(trainModel(b, "1.0.0", 1), DemoInputs(1)[0], time.Second, true)
	r := NewRecorder(Config{Console: io.Discard})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Record(tr)
	}
}

// BenchmarkRecordWithLog adds the decision log: queued by Record, JSON
// encoded and appended to an in-memory file by the flushes (amortized).
func BenchmarkRecordWithLog(b *testing.B) {
	tr := decide(trainModel(b, "1.0.0", 1), DemoInputs(1)[0], time.Second, true)
	fs := afero.NewMemMapFs()
	r := NewRecorder(Config{Console: io.Discard, Fs: fs})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Record(tr)
		if i%2048 == 2047 { // keep the in-memory file small
			b.StopTimer()
			_ = r.Flush()
			_ = fs.Remove(DefaultLogPath)
			b.StartTimer()
		}
	}
	_ = r.Flush()
}
