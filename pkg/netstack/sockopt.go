package netstack

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Sizes of the option structures (arm64).
const (
	sizeofInt     = 4
	sizeofLinger  = 8  // struct linger { int l_onoff; int l_linger; }
	sizeofTimeval = 16 // struct timeval { long tv_sec; long tv_usec; }
	defaultTTL    = 64
)

// SetSockOpt implements setsockopt(2) for the options of SOL_SOCKET,
// IPPROTO_TCP, IPPROTO_IP and IPPROTO_IPV6 that programs use. val is the
// option value as the guest passed it (an int option takes 4 bytes,
// little-endian; shorter is EINVAL). Unknown options are ENOPROTOOPT.
func (s *Socket) SetSockOpt(level, name int, val []byte) linux.Errno {
	return s.op(func() linux.Errno {
		switch level {
		case SOL_SOCKET:
			return s.setSocketOpt(name, val)
		case IPPROTO_TCP:
			if s.protocol != IPPROTO_TCP {
				return linux.ENOPROTOOPT
			}
			return s.setTCPOpt(name, val)
		case IPPROTO_IP:
			return s.setIPOpt(name, val)
		case IPPROTO_IPV6:
			if s.family != AF_INET6 {
				return linux.ENOPROTOOPT
			}
			return s.setIPv6Opt(name, val)
		}
		return linux.ENOPROTOOPT
	})
}

// GetSockOpt implements getsockopt(2): it returns the option's value,
// truncated to size bytes as Linux truncates it (the kernel writes the
// returned length back to optlen). A negative size is EINVAL.
func (s *Socket) GetSockOpt(level, name, size int) ([]byte, linux.Errno) {
	if size < 0 {
		return nil, linux.EINVAL
	}
	var v []byte
	e := s.op(func() linux.Errno {
		var e linux.Errno
		switch level {
		case SOL_SOCKET:
			v, e = s.getSocketOpt(name)
		case IPPROTO_TCP:
			if s.protocol != IPPROTO_TCP {
				return linux.ENOPROTOOPT
			}
			v, e = s.getTCPOpt(name)
		case IPPROTO_IP:
			v, e = s.getIPOpt(name)
		case IPPROTO_IPV6:
			if s.family != AF_INET6 {
				return linux.ENOPROTOOPT
			}
			v, e = s.getIPv6Opt(name)
		default:
			e = linux.ENOPROTOOPT
		}
		return e
	})
	if e != 0 {
		return nil, e
	}
	if len(v) > size {
		v = v[:size]
	}
	return v, 0
}

// SetSockOptInt sets an int option.
func (s *Socket) SetSockOptInt(level, name int, v int32) linux.Errno {
	return s.SetSockOpt(level, name, intBytes(v))
}

// GetSockOptInt gets an int option.
func (s *Socket) GetSockOptInt(level, name int) (int32, linux.Errno) {
	b, e := s.GetSockOpt(level, name, sizeofInt)
	if e != 0 {
		return 0, e
	}
	if len(b) < sizeofInt {
		return 0, linux.EINVAL
	}
	return int32(binary.LittleEndian.Uint32(b)), 0
}

func (s *Socket) setSocketOpt(name int, val []byte) linux.Errno {
	so := s.ep.SocketOptions()
	switch name {
	case SO_LINGER:
		if len(val) < sizeofLinger {
			return linux.EINVAL
		}
		onoff := int32(binary.LittleEndian.Uint32(val))
		secs := max(int32(binary.LittleEndian.Uint32(val[4:])), 0)
		so.SetLinger(tcpip.LingerOption{Enabled: onoff != 0, Timeout: time.Duration(secs) * time.Second})
		return 0
	case SO_RCVTIMEO, SO_SNDTIMEO:
		d, e := parseTimeval(val)
		if e != 0 {
			return e
		}
		if name == SO_RCVTIMEO {
			s.rcvTimeo = d
		} else {
			s.sndTimeo = d
		}
		return 0
	case SO_TYPE, SO_ERROR, SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN:
		return linux.ENOPROTOOPT
	}
	v, e := parseInt(val)
	if e != 0 {
		return e
	}
	switch name {
	case SO_REUSEADDR:
		so.SetReuseAddress(v != 0)
	case SO_REUSEPORT:
		so.SetReusePort(v != 0)
	case SO_KEEPALIVE:
		so.SetKeepAlive(v != 0)
	case SO_BROADCAST:
		so.SetBroadcast(v != 0)
	case SO_OOBINLINE:
		so.SetOutOfBandInline(v != 0)
	case SO_SNDBUF:
		lo, hi := so.SendBufferLimits()
		so.SetSendBufferSize(clampBuf(int64(uint32(v)), lo, hi), true)
	case SO_RCVBUF:
		lo, hi := so.ReceiveBufferLimits()
		so.SetReceiveBufferSize(clampBuf(int64(uint32(v)), lo, hi), true)
	case SO_RCVLOWAT:
		if v < 0 {
			v = math.MaxInt32
		}
		so.SetRcvlowat(v)
	default:
		return linux.ENOPROTOOPT
	}
	return 0
}

// clampBuf applies Linux's rule for SO_SNDBUF/SO_RCVBUF: the value is
// capped at the maximum, then doubled for bookkeeping overhead, and never
// below the minimum.
func clampBuf(v, lo, hi int64) int64 {
	v = min(v, hi)
	if v >= math.MaxInt32/2 {
		return math.MaxInt32
	}
	return max(v*2, lo)
}

func (s *Socket) getSocketOpt(name int) ([]byte, linux.Errno) {
	so := s.ep.SocketOptions()
	switch name {
	case SO_TYPE:
		return intBytes(int32(s.typ)), 0
	case SO_PROTOCOL:
		return intBytes(int32(s.protocol)), 0
	case SO_DOMAIN:
		return intBytes(int32(s.family)), 0
	case SO_ERROR:
		return intBytes(int32(errno(s.takeError()))), 0
	case SO_ACCEPTCONN:
		return boolBytes(so.GetAcceptConn()), 0
	case SO_REUSEADDR:
		return boolBytes(so.GetReuseAddress()), 0
	case SO_REUSEPORT:
		return boolBytes(so.GetReusePort()), 0
	case SO_KEEPALIVE:
		return boolBytes(so.GetKeepAlive()), 0
	case SO_BROADCAST:
		return boolBytes(so.GetBroadcast()), 0
	case SO_OOBINLINE:
		return boolBytes(so.GetOutOfBandInline()), 0
	case SO_SNDBUF:
		return intBytes(int32(min(so.GetSendBufferSize(), math.MaxInt32))), 0
	case SO_RCVBUF:
		return intBytes(int32(min(so.GetReceiveBufferSize(), math.MaxInt32))), 0
	case SO_RCVLOWAT:
		return intBytes(so.GetRcvlowat()), 0
	case SO_LINGER:
		l := so.GetLinger()
		b := make([]byte, sizeofLinger)
		if l.Enabled {
			binary.LittleEndian.PutUint32(b, 1)
		}
		binary.LittleEndian.PutUint32(b[4:], uint32(int32(l.Timeout/time.Second)))
		return b, 0
	case SO_RCVTIMEO:
		return timevalBytes(s.rcvTimeo), 0
	case SO_SNDTIMEO:
		return timevalBytes(s.sndTimeo), 0
	}
	return nil, linux.ENOPROTOOPT
}

func (s *Socket) setTCPOpt(name int, val []byte) linux.Errno {
	v, e := parseInt(val)
	if e != 0 {
		return e
	}
	so := s.ep.SocketOptions()
	switch name {
	case TCP_NODELAY:
		so.SetDelayOption(v == 0)
	case TCP_CORK:
		so.SetCorkOption(v != 0)
	case TCP_QUICKACK:
		so.SetQuickAck(v != 0)
	case TCP_MAXSEG:
		return errno(s.ep.SetSockOptInt(tcpip.MaxSegOption, int(v)))
	case TCP_KEEPIDLE:
		if v < 1 || v > maxTCPKeepIdle {
			return linux.EINVAL
		}
		o := tcpip.KeepaliveIdleOption(time.Duration(v) * time.Second)
		return errno(s.ep.SetSockOpt(&o))
	case TCP_KEEPINTVL:
		if v < 1 || v > maxTCPKeepIntvl {
			return linux.EINVAL
		}
		o := tcpip.KeepaliveIntervalOption(time.Duration(v) * time.Second)
		return errno(s.ep.SetSockOpt(&o))
	case TCP_KEEPCNT:
		if v < 1 || v > maxTCPKeepCnt {
			return linux.EINVAL
		}
		return errno(s.ep.SetSockOptInt(tcpip.KeepaliveCountOption, int(v)))
	case TCP_USER_TIMEOUT:
		if v < 0 {
			return linux.EINVAL
		}
		o := tcpip.TCPUserTimeoutOption(time.Duration(v) * time.Millisecond)
		return errno(s.ep.SetSockOpt(&o))
	default:
		return linux.ENOPROTOOPT
	}
	return 0
}

func (s *Socket) getTCPOpt(name int) ([]byte, linux.Errno) {
	so := s.ep.SocketOptions()
	switch name {
	case TCP_NODELAY:
		return boolBytes(!so.GetDelayOption()), 0
	case TCP_CORK:
		return boolBytes(so.GetCorkOption()), 0
	case TCP_QUICKACK:
		return boolBytes(so.GetQuickAck()), 0
	case TCP_MAXSEG:
		return s.intOpt(tcpip.MaxSegOption)
	case TCP_KEEPCNT:
		return s.intOpt(tcpip.KeepaliveCountOption)
	case TCP_KEEPIDLE:
		var o tcpip.KeepaliveIdleOption
		if err := s.ep.GetSockOpt(&o); err != nil {
			return nil, errno(err)
		}
		return intBytes(int32(time.Duration(o) / time.Second)), 0
	case TCP_KEEPINTVL:
		var o tcpip.KeepaliveIntervalOption
		if err := s.ep.GetSockOpt(&o); err != nil {
			return nil, errno(err)
		}
		return intBytes(int32(time.Duration(o) / time.Second)), 0
	case TCP_USER_TIMEOUT:
		var o tcpip.TCPUserTimeoutOption
		if err := s.ep.GetSockOpt(&o); err != nil {
			return nil, errno(err)
		}
		return intBytes(int32(time.Duration(o) / time.Millisecond)), 0
	}
	return nil, linux.ENOPROTOOPT
}

func (s *Socket) setIPOpt(name int, val []byte) linux.Errno {
	v, e := parseInt(val)
	if e != 0 {
		return e
	}
	switch name {
	case IP_TTL:
		if v == -1 {
			v = tcpip.UseDefaultIPv4TTL
		} else if v < 1 || v > 255 {
			return linux.EINVAL
		}
		return errno(s.ep.SetSockOptInt(tcpip.IPv4TTLOption, int(v)))
	case IP_TOS:
		return errno(s.ep.SetSockOptInt(tcpip.IPv4TOSOption, int(uint8(v))))
	}
	return linux.ENOPROTOOPT
}

func (s *Socket) getIPOpt(name int) ([]byte, linux.Errno) {
	switch name {
	case IP_TTL:
		v, err := s.ep.GetSockOptInt(tcpip.IPv4TTLOption)
		if err != nil {
			return nil, errno(err)
		}
		if v == tcpip.UseDefaultIPv4TTL {
			v = defaultTTL
		}
		return intBytes(int32(v)), 0
	case IP_TOS:
		return s.intOpt(tcpip.IPv4TOSOption)
	}
	return nil, linux.ENOPROTOOPT
}

func (s *Socket) setIPv6Opt(name int, val []byte) linux.Errno {
	v, e := parseInt(val)
	if e != 0 {
		return e
	}
	switch name {
	case IPV6_V6ONLY:
		if !s.unbound() {
			return linux.EINVAL
		}
		s.ep.SocketOptions().SetV6Only(v != 0)
		return 0
	case IPV6_UNICAST_HOPS:
		if v < -1 || v > 255 {
			return linux.EINVAL
		}
		return errno(s.ep.SetSockOptInt(tcpip.IPv6HopLimitOption, int(v)))
	case IPV6_TCLASS:
		if v < -1 || v > 255 {
			return linux.EINVAL
		}
		return errno(s.ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, int(max(v, 0))))
	}
	return linux.ENOPROTOOPT
}

func (s *Socket) getIPv6Opt(name int) ([]byte, linux.Errno) {
	switch name {
	case IPV6_V6ONLY:
		return boolBytes(s.ep.SocketOptions().GetV6Only()), 0
	case IPV6_UNICAST_HOPS:
		v, err := s.ep.GetSockOptInt(tcpip.IPv6HopLimitOption)
		if err != nil {
			return nil, errno(err)
		}
		if v == tcpip.UseDefaultIPv6HopLimit {
			v = defaultTTL
		}
		return intBytes(int32(v)), 0
	case IPV6_TCLASS:
		return s.intOpt(tcpip.IPv6TrafficClassOption)
	}
	return nil, linux.ENOPROTOOPT
}

// unbound reports whether the endpoint is still in its initial state, the
// only state in which IPV6_V6ONLY may change.
func (s *Socket) unbound() bool {
	if s.typ == SOCK_STREAM {
		return tcp.EndpointState(s.ep.State()) == tcp.StateInitial
	}
	return transport.DatagramEndpointState(s.ep.State()) == transport.DatagramEndpointStateInitial
}

func (s *Socket) intOpt(o tcpip.SockOptInt) ([]byte, linux.Errno) {
	v, err := s.ep.GetSockOptInt(o)
	if err != nil {
		return nil, errno(err)
	}
	return intBytes(int32(v)), 0
}

func parseInt(val []byte) (int32, linux.Errno) {
	if len(val) < sizeofInt {
		return 0, linux.EINVAL
	}
	return int32(binary.LittleEndian.Uint32(val)), 0
}

// parseTimeval decodes SO_RCVTIMEO/SO_SNDTIMEO as Linux does: a negative
// time means no timeout, a microsecond field outside [0, 1e6) is EDOM.
func parseTimeval(val []byte) (time.Duration, linux.Errno) {
	if len(val) < sizeofTimeval {
		return 0, linux.EINVAL
	}
	sec := int64(binary.LittleEndian.Uint64(val))
	usec := int64(binary.LittleEndian.Uint64(val[8:]))
	if usec < 0 || usec >= 1e6 {
		return 0, linux.EDOM
	}
	if sec < 0 {
		return 0, 0
	}
	if sec >= int64(math.MaxInt64/time.Second)-1 {
		return 0, 0
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, 0
}

func timevalBytes(d time.Duration) []byte {
	b := make([]byte, sizeofTimeval)
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
	return b
}

func intBytes(v int32) []byte {
	return binary.LittleEndian.AppendUint32(nil, uint32(v))
}

func boolBytes(v bool) []byte {
	if v {
		return intBytes(1)
	}
	return intBytes(0)
}
