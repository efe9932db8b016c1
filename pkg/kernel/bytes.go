package kernel

import "encoding/binary"

func le64(b []byte) uint64     { return binary.LittleEndian.Uint64(b) }
func put64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }
func put32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }
func put16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }
