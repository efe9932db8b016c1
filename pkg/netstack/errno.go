package netstack

import (
	"github.com/sis-kernel/sissim/pkg/linux"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// errno maps a gVisor error to the errno Linux returns in its place, as
// gVisor's own sentry does. ErrClosedForReceive (end of stream) maps to 0.
func errno(err tcpip.Error) linux.Errno {
	switch err.(type) {
	case nil, *tcpip.ErrClosedForReceive:
		return 0
	case *tcpip.ErrUnknownProtocol, *tcpip.ErrAlreadyBound, *tcpip.ErrInvalidEndpointState,
		*tcpip.ErrInvalidOptionValue, *tcpip.ErrMalformedHeader, *tcpip.ErrInvalidPortRange,
		*tcpip.ErrMulticastInputCannotBeOutput, *tcpip.ErrMissingRequiredFields:
		return linux.EINVAL
	case *tcpip.ErrUnknownNICID, *tcpip.ErrUnknownDevice:
		return linux.ENODEV
	case *tcpip.ErrUnknownProtocolOption:
		return linux.ENOPROTOOPT
	case *tcpip.ErrDuplicateNICID, *tcpip.ErrDuplicateAddress:
		return linux.EEXIST
	case *tcpip.ErrHostUnreachable:
		return linux.EHOSTUNREACH
	case *tcpip.ErrHostDown:
		return linux.EHOSTDOWN
	case *tcpip.ErrNoNet:
		return linux.ENONET
	case *tcpip.ErrAlreadyConnecting:
		return linux.EALREADY
	case *tcpip.ErrAlreadyConnected:
		return linux.EISCONN
	case *tcpip.ErrNoPortAvailable, *tcpip.ErrWouldBlock:
		return linux.EAGAIN
	case *tcpip.ErrPortInUse:
		return linux.EADDRINUSE
	case *tcpip.ErrBadLocalAddress:
		return linux.EADDRNOTAVAIL
	case *tcpip.ErrClosedForSend, *tcpip.ErrAborted:
		return linux.EPIPE
	case *tcpip.ErrConnectionRefused:
		return linux.ECONNREFUSED
	case *tcpip.ErrTimeout:
		return linux.ETIMEDOUT
	case *tcpip.ErrConnectStarted:
		return linux.EINPROGRESS
	case *tcpip.ErrDestinationRequired:
		return linux.EDESTADDRREQ
	case *tcpip.ErrNotSupported:
		return linux.EOPNOTSUPP
	case *tcpip.ErrQueueSizeNotSupported:
		return linux.ENOTTY
	case *tcpip.ErrNotConnected:
		return linux.ENOTCONN
	case *tcpip.ErrConnectionReset:
		return linux.ECONNRESET
	case *tcpip.ErrConnectionAborted:
		return linux.ECONNABORTED
	case *tcpip.ErrNoSuchFile:
		return linux.ENOENT
	case *tcpip.ErrBadAddress, *tcpip.ErrBadBuffer:
		return linux.EFAULT
	case *tcpip.ErrNetworkUnreachable:
		return linux.ENETUNREACH
	case *tcpip.ErrMessageTooLong:
		return linux.EMSGSIZE
	case *tcpip.ErrNoBufferSpace:
		return linux.ENOBUFS
	case *tcpip.ErrBroadcastDisabled:
		return linux.EACCES
	case *tcpip.ErrNotPermitted:
		return linux.EPERM
	case *tcpip.ErrAddressFamilyNotSupported:
		return linux.EAFNOSUPPORT
	case *tcpip.ErrEndpointBusy:
		return linux.EBUSY
	}
	return linux.EIO
}
