// Package netstack is a machine's network, built on gVisor's user-space
// TCP/IP stack (gvisor.dev/gvisor/pkg/tcpip): AF_INET and AF_INET6 sockets
// (TCP, UDP and ICMP echo "ping" sockets) for the guest, real packet
// counters, /proc/net tables, and, off by default, published ports and NAT
// to the host. It knows nothing of the kernel; the kernel's socket system
// calls call it.
//
// # Topology
//
// Each machine has two gVisor stacks joined by one virtual wire:
//
//	guest stack                              gateway stack
//	  lo    127.0.0.1/8, ::1                  10.0.2.2/24, fec0::2/64
//	  eth0  10.0.2.15/24, fec0::15/64  <--->  (answers pings, refuses or,
//	        default routes via 10.0.2.2       with NAT, forwards connections
//	        and fec0::2                       to host sockets)
//
// These are qemu's user-network addresses. lo is interface 1 (MTU 65536),
// eth0 interface 2 (MTU 1500, hardware address 52:54:00:12:34:56). Traffic
// from the guest to its own eth0 address turns around at eth0 and is
// counted on lo, as Linux routes and counts it.
//
// # Driving the network
//
// The network never runs on its own (except the host side, below). Every
// Socket method is non-blocking: it returns EAGAIN, EINPROGRESS or EALREADY
// where a blocking call would wait, and before it returns it settles the
// network: every packet the call caused is delivered and processed, and so
// are the replies, until the wire is empty. After Send returns, the data
// sits in the peer's receive queue; after Connect to a listener on the
// machine returns, the connection waits in the accept queue. The kernel
// implements blocking (and O_NONBLOCK, MSG_DONTWAIT, SO_RCVTIMEO) itself:
//
//	for {
//		n, err := s.Recv(buf, flags)
//		if err != linux.EAGAIN || nonblocking { return n, err }
//		block until s reports EventIn|EventRdHup|EventHup|EventErr
//	}
//
// A blocking connect calls Connect, and while it returns EINPROGRESS or
// EALREADY waits for EventOut|EventErr|EventHup and calls Connect again with
// the same address; the last call returns 0 or the failure (ECONNREFUSED,
// ETIMEDOUT...). A blocking accept waits for EventIn. Send returning EPIPE
// means the kernel also raises SIGPIPE unless MSG_NOSIGNAL was given.
//
// Readiness: Readiness returns the events that hold now, in Linux poll bits
// (EventIn is POLLIN/EPOLLIN, and so on; poll and epoll add EventErr and
// EventHup to the mask themselves). Watch registers a callback that hears
// which events a state change raised; it is the hook for the kernel's one
// readiness mechanism (epoll, poll, blocking calls). In deterministic mode
// callbacks run only while a Network or Socket call (Settle and Advance
// included) is in progress, on the caller's goroutine or on a stack
// goroutine while the caller waits; in realtime mode timers may also run
// them on their own goroutines. They must only record the news and wake
// waiters: never call back into the Network, and never wait for a lock the
// caller of a Network method may hold (the caller waits for the callback).
// Treat the events as a hint and ask Readiness. Traffic inside the machine
// never raises Wake.
// All Network and Socket methods may be called from any goroutine; they
// serialize on the network.
//
// Time. In deterministic mode (Config.Realtime false) the stacks run on a
// ManualClock that is machine time: it moves only when the kernel calls
// Advance(now) with its clock's reading. Timers (retransmission, delayed
// probes, keep-alive, TIME_WAIT, the SYN back-off 1, 3, 7 ... 127 s) fire
// inside Advance at their own deadlines, in deadline order, and the network
// settles after each. The kernel:
//
//   - calls Advance(now) as machine time passes: before each socket call
//     (so that timers the call arms count from the right instant) and at
//     each scheduling decision; it is cheap when nothing is due;
//   - when every task sleeps, jumps its clock to the earlier of its own next
//     event and NextDeadline() and calls Advance there;
//   - when Wake() fires (host traffic), calls Settle; while HostActive()
//     reports open host connections, an idle kernel should wait on Wake for
//     the real duration of a jump instead of jumping at once, or the guest
//     would time out before the host answers.
//
// In realtime mode the stacks use the host clock, their timers fire on
// their own goroutines and put packets on the wire; Wake fires and the
// kernel calls Settle. NextDeadline then reports nothing and Advance only
// settles.
//
// # Determinism
//
// In deterministic mode, the same seed and the same sequence of calls
// (with the same Advance times) give the same results, notifications and
// packets, byte for byte (TestDeterminism compares two runs' logs and a
// hash of every packet, also across GOMAXPROCS). This rests on:
//
//   - one wire: every link transmits into a single FIFO, and Settle
//     delivers one frame at a time;
//   - quiescence: after each frame, Settle waits until the receiving stack
//     has processed it (gVisor's Stack.Pause parks the TCP processor only
//     when its queue is empty; nothing else feeds the queue meanwhile);
//   - one TCP segment processor per stack: gVisor starts GOMAXPROCS
//     processor goroutines when a stack is created, so New creates the
//     stacks with GOMAXPROCS set to 1 for that moment (serialized by a
//     package lock, restored at once), and all of a stack's TCP processing
//     runs on one goroutine in queue order;
//   - the kernel-driven ManualClock, with timers fired synchronously;
//   - randomness from the seed: each stack's SecureRNG (initial sequence
//     numbers, timestamp offsets, IPv4 and IPv6 fragment IDs, port hashes)
//     and RandSource (ephemeral ports, hash seeds) are ChaCha8 and
//     math/rand streams derived from Config.Seed;
//   - RACK loss detection off: on a wire where delivery takes no machine
//     time, RACK would take any reordering for loss at once and retransmit
//     without end within one instant. SACK with duplicate-ACK recovery
//     does not depend on time.
//
// Settle handles at most 2^20 frames and timers per call (a count, so the
// cut is deterministic too), and the wire holds at most 64 MiB (further
// frames are dropped and counted as TxDropped), so a protocol storm cannot
// hold the kernel or the host's memory.
//
// Host traffic is not deterministic: what published ports and NAT carry,
// and when, depends on the host. Everything that stays inside the machine
// remains deterministic while host connections are open.
//
// # Sockets
//
// The syscall layer maps calls onto Socket methods (addresses are
// netip.AddrPort; ParseSockaddr and MarshalSockaddr convert struct sockaddr
// with Linux's length and family checks):
//
//	socket(2)                Network.Socket(family, type, protocol)
//	bind(2)                  Socket.Bind
//	listen(2)                Socket.Listen
//	accept4(2)               Socket.Accept (peer address)
//	connect(2)               Socket.Connect; AF_UNSPEC: Socket.Disconnect
//	recvfrom/recvmsg(2)      Socket.Recv(buf, MSG_PEEK|MSG_TRUNC)
//	sendto/sendmsg(2)        Socket.Send(buf, to, MSG_MORE)
//	shutdown(2)              Socket.Shutdown
//	getsockname(2)           Socket.LocalAddr
//	getpeername(2)           Socket.PeerAddr
//	setsockopt(2)            Socket.SetSockOpt(level, name, optval)
//	getsockopt(2)            Socket.GetSockOpt(level, name, optlen)
//	ioctl FIONREAD           Socket.InQueue
//	SIOCGIF*                 Network.Interfaces
//	close(2), last ref       Socket.Close
//	poll/epoll               Socket.Readiness, Socket.Watch
//
// Options: SOL_SOCKET SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_LINGER,
// SO_RCVBUF, SO_SNDBUF, SO_ERROR, SO_TYPE, SO_PROTOCOL, SO_DOMAIN,
// SO_ACCEPTCONN, SO_BROADCAST, SO_OOBINLINE, SO_RCVLOWAT, SO_RCVTIMEO and
// SO_SNDTIMEO (stored for the kernel: RecvTimeout, SendTimeout);
// IPPROTO_TCP TCP_NODELAY, TCP_CORK, TCP_QUICKACK, TCP_MAXSEG, TCP_KEEPIDLE,
// TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT; IPPROTO_IP IP_TTL, IP_TOS;
// IPPROTO_IPV6 IPV6_V6ONLY, IPV6_UNICAST_HOPS, IPV6_TCLASS. Others are
// ENOPROTOOPT. Errors are Linux errnos (pkg/linux), mapped from gVisor's
// as gVisor's own sentry maps them, with Linux's special cases (EADDRINUSE
// for a taken port on bind, EADDRNOTAVAIL for ephemeral port exhaustion on
// TCP connect, SO_ERROR cleared once a call reported the error).
//
// # Counters and /proc
//
// Stats returns per-interface packets, bytes, drops and errors, counted in
// the link endpoints where packets move; the kernel exports them as
// network_packets_total{direction} and network_bytes_total{direction} (sum
// or label by interface) and ProcNetDev prints /proc/net/dev. ProcNetTCP,
// ProcNetUDP (AF_INET or AF_INET6) and ProcNetRoute print those files from
// the stack's endpoints and routes; SetOwner gives a socket the uid and
// inode they show.
//
// # Host connectivity
//
// Off by default: a machine is a sandbox whose gateway answers pings and
// refuses connections. Publish(Port) listens on a host port (127.0.0.1 by
// default) and forwards each TCP connection, or UDP flow, to a guest port
// on eth0's address, as docker -p and qemu's hostfwd do; the guest sees it
// come from 10.0.2.2. Config.NAT lets guest connections out through host
// sockets with gVisor's TCP and UDP forwarders on the gateway: NATGateway
// maps 10.0.2.2 and fec0::2 to the host's 127.0.0.1 and ::1 (a collector
// on the host's loopback), NATFull also dials any other address as is. A
// refused host connection reaches the guest as ECONNREFUSED. The host side
// is bounded: at most 1024 relays and dials at once, 256 UDP flows per
// published port and 256 for NAT (each closed after 60 s without traffic
// from its far end), 256 guest SYNs waiting for a host dial.
//
// # Not provided
//
// Raw and packet sockets, multicast membership options, ancillary data
// (IP_PKTINFO, timestamps), MSG_OOB, SO_BINDTODEVICE, IPv6 scope IDs and
// link-local addresses, TCP_INFO, a DNS server at 10.0.2.3, and ICMP
// through NAT. TIOCOUTQ (gVisor keeps no per-endpoint count of unsent
// bytes that it exposes). A positive SO_LINGER does not make Close block.
// The tx_queue, timer, retransmit and congestion columns of /proc/net/tcp
// are zero for the same reason, and /proc/net/route lists the IPv4 main
// table only. Two Linux side effects of failing calls are not reproduced:
// shutdown(2) on an unconnected socket returns ENOTCONN but Linux still
// records the shutdown (a later send fails with EPIPE), and a failed UDP
// sendto or connect may leave a Linux socket bound to a port.
//
// TestErrnosMatchLinux runs the same call sequences on the host's kernel
// (which is what qemu-user hands guest socket calls to) and on a Network
// and compares every result.
package netstack
