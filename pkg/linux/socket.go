package linux

// Socket families, types and flags (linux/socket.h, linux/net.h).
const (
	AF_UNSPEC  = 0
	AF_UNIX    = 1
	AF_INET    = 2
	AF_INET6   = 10
	AF_NETLINK = 16
	AF_PACKET  = 17
	AF_MAX     = 46 // NPROTO: families at or above are EAFNOSUPPORT

	SOCK_STREAM    = 1
	SOCK_DGRAM     = 2
	SOCK_RAW       = 3
	SOCK_RDM       = 4
	SOCK_SEQPACKET = 5
	SOCK_PACKET    = 10
	SOCK_MAX       = 11 // types at or above are EINVAL
	SOCK_TYPE_MASK = 0xf
	SOCK_NONBLOCK  = O_NONBLOCK
	SOCK_CLOEXEC   = O_CLOEXEC
)

// Flags of send(2) and recv(2) and of msg_flags.
const (
	MSG_OOB          = 0x1
	MSG_PEEK         = 0x2
	MSG_DONTROUTE    = 0x4
	MSG_CTRUNC       = 0x8
	MSG_TRUNC        = 0x20
	MSG_DONTWAIT     = 0x40
	MSG_EOR          = 0x80
	MSG_WAITALL      = 0x100
	MSG_CONFIRM      = 0x800
	MSG_ERRQUEUE     = 0x2000
	MSG_NOSIGNAL     = 0x4000
	MSG_MORE         = 0x8000
	MSG_WAITFORONE   = 0x10000
	MSG_BATCH        = 0x40000
	MSG_ZEROCOPY     = 0x4000000
	MSG_FASTOPEN     = 0x20000000
	MSG_CMSG_CLOEXEC = 0x40000000
)

// Socket option levels and SOL_SOCKET options (asm-generic/socket.h).
const (
	SOL_SOCKET = 1
	SOL_IP     = 0
	SOL_TCP    = 6
	SOL_UDP    = 17
	SOL_IPV6   = 41

	SO_DEBUG        = 1
	SO_REUSEADDR    = 2
	SO_TYPE         = 3
	SO_ERROR        = 4
	SO_DONTROUTE    = 5
	SO_BROADCAST    = 6
	SO_SNDBUF       = 7
	SO_RCVBUF       = 8
	SO_KEEPALIVE    = 9
	SO_OOBINLINE    = 10
	SO_NO_CHECK     = 11
	SO_PRIORITY     = 12
	SO_LINGER       = 13
	SO_BSDCOMPAT    = 14
	SO_REUSEPORT    = 15
	SO_PASSCRED     = 16
	SO_PEERCRED     = 17
	SO_RCVLOWAT     = 18
	SO_SNDLOWAT     = 19
	SO_RCVTIMEO     = 20 // SO_RCVTIMEO_OLD
	SO_SNDTIMEO     = 21 // SO_SNDTIMEO_OLD
	SO_ACCEPTCONN   = 30
	SO_SNDBUFFORCE  = 32
	SO_RCVBUFFORCE  = 33
	SO_PROTOCOL     = 38
	SO_DOMAIN       = 39
	SO_PEEK_OFF     = 42
	SO_RCVTIMEO_NEW = 66
	SO_SNDTIMEO_NEW = 67

	SCM_RIGHTS      = 1
	SCM_CREDENTIALS = 2
	SCM_MAX_FD      = 253 // descriptors in one SCM_RIGHTS message

	SHUT_RD   = 0
	SHUT_WR   = 1
	SHUT_RDWR = 2

	SOMAXCONN = 4096 // net.core.somaxconn
)

// Interface ioctl requests (linux/sockios.h; FIONREAD, FIONBIO and
// TIOCOUTQ are in abi.go) and the structures socket calls copy.
const (
	SIOCGIFNAME    = 0x8910
	SIOCGIFCONF    = 0x8912
	SIOCGIFFLAGS   = 0x8913
	SIOCGIFADDR    = 0x8915
	SIOCGIFBRDADDR = 0x8919
	SIOCGIFNETMASK = 0x891b
	SIOCGIFMTU     = 0x8921
	SIOCGIFHWADDR  = 0x8927
	SIOCGIFINDEX   = 0x8933
	SIOCGIFTXQLEN  = 0x8942
	SIOCSIFFLAGS   = 0x8914
	SIOCSIFADDR    = 0x8916
	SIOCSIFBRDADDR = 0x891a
	SIOCSIFNETMASK = 0x891c
	SIOCSIFMTU     = 0x8922
	SIOCSIFNAME    = 0x8923
	SIOCSIFHWADDR  = 0x8924
	SIOCSIFTXQLEN  = 0x8943

	IFNAMSIZ         = 16
	ARPHRD_ETHER     = 1
	ARPHRD_LOOPBACK  = 772
	SizeofIfreq      = 40 // struct ifreq on arm64
	SizeofSockaddrUn = 110
	SizeofMsghdr     = 56 // struct msghdr on arm64
	SizeofMmsghdr    = 64
	SizeofCmsghdr    = 16
	SizeofUcred      = 12
	SizeofSockaddrSt = 128 // struct sockaddr_storage: the longest address accepted
)
