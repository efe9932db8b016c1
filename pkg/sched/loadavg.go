package sched

// Load averages as Linux computes them (kernel/sched/loadavg.c): every
// LoadFreq of machine time, each average decays towards the number of
// runnable servers by a fixed-point factor for 1, 5 and 15 minutes. The
// count is piecewise constant between SetRunnable calls, so catching up
// at each change (and when read) gives the exact values of a sampler that
// never missed a period, without a timer.

// LoadFreq is the sampling period of the load averages, in ns.
const LoadFreq = 5_000_000_000

// Fixed-point load: FSHIFT bits of fraction, and the decay factors
// 2048/exp(5s/1min), 2048/exp(5s/5min), 2048/exp(5s/15min).
const (
	loadShift = 11
	loadOne   = 1 << loadShift
)

var loadExp = [3]uint64{1884, 2014, 2037}

// loadAvg holds the averages and the sampling state.
type loadAvg struct {
	avg  [3]uint64 // fixed point, loadShift bits of fraction
	next uint64    // machine time of the next sample
}

// advance takes the samples due up to now, with n runnable throughout.
func (l *loadAvg) advance(now uint64, n int) {
	if l.next == 0 {
		l.next = LoadFreq
	}
	if now < l.next {
		return
	}
	active := uint64(n) * loadOne
	for samples := (now-l.next)/LoadFreq + 1; samples > 0; samples-- {
		if active == 0 && l.avg == [3]uint64{} {
			break // nothing left to decay
		}
		for i, e := range loadExp {
			v := l.avg[i]*e + active*(loadOne-e)
			if active >= l.avg[i] {
				v += loadOne - 1
			}
			l.avg[i] = v / loadOne
		}
	}
	l.next += ((now-l.next)/LoadFreq + 1) * LoadFreq
}

// LoadAvg returns the 1, 5 and 15 minute load averages at now, in
// fixed point with 11 bits of fraction (as Linux's avenrun), and the
// servers runnable now.
func (s *Scheduler) LoadAvg(now uint64) (avg [3]uint64, runnable int) {
	s.load.advance(now, s.runnable)
	return s.load.avg, s.runnable
}
