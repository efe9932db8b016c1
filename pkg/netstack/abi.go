package netstack

// Linux ABI values the socket API takes and returns (arm64 uses the generic
// numbering). They are untyped constants, interchangeable with any other
// definition of the same names.
const (
	AF_UNSPEC = 0
	AF_INET   = 2
	AF_INET6  = 10

	SOCK_STREAM = 1
	SOCK_DGRAM  = 2
	SOCK_RAW    = 3

	IPPROTO_IP     = 0
	IPPROTO_ICMP   = 1
	IPPROTO_TCP    = 6
	IPPROTO_UDP    = 17
	IPPROTO_IPV6   = 41
	IPPROTO_ICMPV6 = 58
	IPPROTO_RAW    = 255

	SOL_SOCKET = 1

	SO_REUSEADDR  = 2
	SO_TYPE       = 3
	SO_ERROR      = 4
	SO_BROADCAST  = 6
	SO_SNDBUF     = 7
	SO_RCVBUF     = 8
	SO_KEEPALIVE  = 9
	SO_OOBINLINE  = 10
	SO_LINGER     = 13
	SO_REUSEPORT  = 15
	SO_RCVLOWAT   = 18
	SO_RCVTIMEO   = 20
	SO_SNDTIMEO   = 21
	SO_ACCEPTCONN = 30
	SO_PROTOCOL   = 38
	SO_DOMAIN     = 39

	TCP_NODELAY      = 1
	TCP_MAXSEG       = 2
	TCP_CORK         = 3
	TCP_KEEPIDLE     = 4
	TCP_KEEPINTVL    = 5
	TCP_KEEPCNT      = 6
	TCP_QUICKACK     = 12
	TCP_USER_TIMEOUT = 18

	IP_TOS = 1
	IP_TTL = 2

	IPV6_UNICAST_HOPS = 16
	IPV6_V6ONLY       = 26
	IPV6_TCLASS       = 67

	SHUT_RD   = 0
	SHUT_WR   = 1
	SHUT_RDWR = 2

	// Interface flags (SIOCGIFFLAGS).
	IFF_UP        = 0x1
	IFF_BROADCAST = 0x2
	IFF_LOOPBACK  = 0x8
	IFF_RUNNING   = 0x40
	IFF_MULTICAST = 0x1000

	// Limits Linux enforces on the keep-alive options.
	maxTCPKeepIdle  = 32767
	maxTCPKeepIntvl = 32767
	maxTCPKeepCnt   = 127
)

// Events is a readiness mask in Linux poll/epoll bits.
type Events uint32

// Readiness bits (EPOLLIN and friends have the same values as POLLIN...).
const (
	EventIn     Events = 0x1
	EventPri    Events = 0x2
	EventOut    Events = 0x4
	EventErr    Events = 0x8
	EventHup    Events = 0x10
	EventRdNorm Events = 0x40
	EventWrNorm Events = 0x100
	EventRdHup  Events = 0x2000

	// AllEvents is every bit a socket reports.
	AllEvents = EventIn | EventPri | EventOut | EventErr | EventHup | EventRdNorm | EventWrNorm | EventRdHup
)
