package gdbstub

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Register numbers in the target description (and in p/P packets).
const (
	regX0    = 0
	regSP    = 31
	regPC    = 32
	regCPSR  = 33
	regV0    = 34
	regFPSR  = 66
	regFPCR  = 67
	numRegs  = 68
	regsSize = 31*8 + 8 + 8 + 4 + 32*16 + 4 + 4 // bytes in a g packet
)

// regSize returns the size in bytes of register n.
func regSize(n int) int {
	switch {
	case n < regCPSR:
		return 8
	case n == regCPSR || n == regFPSR || n == regFPCR:
		return 4
	case n >= regV0 && n < regFPSR:
		return 16
	}
	return 0
}

// regBytes returns register n of r as little-endian bytes.
func regBytes(r *Registers, n int) []byte {
	b := make([]byte, regSize(n))
	switch {
	case n < regSP:
		binary.LittleEndian.PutUint64(b, r.X[n])
	case n == regSP:
		binary.LittleEndian.PutUint64(b, r.SP)
	case n == regPC:
		binary.LittleEndian.PutUint64(b, r.PC)
	case n == regCPSR:
		binary.LittleEndian.PutUint32(b, r.CPSR)
	case n >= regV0 && n < regFPSR:
		copy(b, r.V[n-regV0][:])
	case n == regFPSR:
		binary.LittleEndian.PutUint32(b, r.FPSR)
	case n == regFPCR:
		binary.LittleEndian.PutUint32(b, r.FPCR)
	}
	return b
}

// setReg sets register n of r from little-endian bytes of its size.
func setReg(r *Registers, n int, b []byte) {
	switch {
	case n < regSP:
		r.X[n] = binary.LittleEndian.Uint64(b)
	case n == regSP:
		r.SP = binary.LittleEndian.Uint64(b)
	case n == regPC:
		r.PC = binary.LittleEndian.Uint64(b)
	case n == regCPSR:
		r.CPSR = binary.LittleEndian.Uint32(b)
	case n >= regV0 && n < regFPSR:
		copy(r.V[n-regV0][:], b)
	case n == regFPSR:
		r.FPSR = binary.LittleEndian.Uint32(b)
	case n == regFPCR:
		r.FPCR = binary.LittleEndian.Uint32(b)
	}
}

// encodeRegs returns the g packet bytes of r.
func encodeRegs(r *Registers) []byte {
	b := make([]byte, 0, regsSize)
	for n := 0; n < numRegs; n++ {
		b = append(b, regBytes(r, n)...)
	}
	return b
}

// decodeRegs parses G packet bytes into r.
func decodeRegs(r *Registers, b []byte) error {
	if len(b) != regsSize {
		return fmt.Errorf("register block of %d bytes, want %d", len(b), regsSize)
	}
	for n := 0; n < numRegs; n++ {
		sz := regSize(n)
		setReg(r, n, b[:sz])
		b = b[sz:]
	}
	return nil
}

// targetXML is the target description: the aarch64 core and fpu features
// in one document, registers numbered in document order (0-67).
var targetXML = buildTargetXML()

func buildTargetXML() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>aarch64</architecture>
<osabi>GNU/Linux</osabi>
<feature name="org.gnu.gdb.aarch64.core">
<flags id="cpsr_flags" size="4">
<field name="SP" start="0" end="0"/>
<field name="EL" start="2" end="3"/>
<field name="nRW" start="4" end="4"/>
<field name="F" start="6" end="6"/>
<field name="I" start="7" end="7"/>
<field name="A" start="8" end="8"/>
<field name="D" start="9" end="9"/>
<field name="BTYPE" start="10" end="11"/>
<field name="SSBS" start="12" end="12"/>
<field name="IL" start="20" end="20"/>
<field name="SS" start="21" end="21"/>
<field name="PAN" start="22" end="22"/>
<field name="UAO" start="23" end="23"/>
<field name="DIT" start="24" end="24"/>
<field name="TCO" start="25" end="25"/>
<field name="V" start="28" end="28"/>
<field name="C" start="29" end="29"/>
<field name="Z" start="30" end="30"/>
<field name="N" start="31" end="31"/>
</flags>
`)
	for i := 0; i < 31; i++ {
		fmt.Fprintf(&b, "<reg name=\"x%d\" bitsize=\"64\" type=\"int\" regnum=\"%d\"/>\n", i, i)
	}
	fmt.Fprintf(&b, `<reg name="sp" bitsize="64" type="data_ptr" regnum="%d"/>
<reg name="pc" bitsize="64" type="code_ptr" regnum="%d"/>
<reg name="cpsr" bitsize="32" type="cpsr_flags" regnum="%d"/>
</feature>
<feature name="org.gnu.gdb.aarch64.fpu">
<vector id="v2d" type="ieee_double" count="2"/>
<vector id="v2u" type="uint64" count="2"/>
<vector id="v2i" type="int64" count="2"/>
<vector id="v4f" type="ieee_single" count="4"/>
<vector id="v4u" type="uint32" count="4"/>
<vector id="v4i" type="int32" count="4"/>
<vector id="v8f" type="ieee_half" count="8"/>
<vector id="v8u" type="uint16" count="8"/>
<vector id="v8i" type="int16" count="8"/>
<vector id="v16u" type="uint8" count="16"/>
<vector id="v16i" type="int8" count="16"/>
<vector id="v1u" type="uint128" count="1"/>
<vector id="v1i" type="int128" count="1"/>
<union id="vnd"><field name="f" type="v2d"/><field name="u" type="v2u"/><field name="s" type="v2i"/></union>
<union id="vns"><field name="f" type="v4f"/><field name="u" type="v4u"/><field name="s" type="v4i"/></union>
<union id="vnh"><field name="f" type="v8f"/><field name="u" type="v8u"/><field name="s" type="v8i"/></union>
<union id="vnb"><field name="u" type="v16u"/><field name="s" type="v16i"/></union>
<union id="vnq"><field name="u" type="v1u"/><field name="s" type="v1i"/></union>
<union id="aarch64v"><field name="d" type="vnd"/><field name="s" type="vns"/><field name="h" type="vnh"/><field name="b" type="vnb"/><field name="q" type="vnq"/></union>
`, regSP, regPC, regCPSR)
	for i := 0; i < 32; i++ {
		fmt.Fprintf(&b, "<reg name=\"v%d\" bitsize=\"128\" type=\"aarch64v\" regnum=\"%d\"/>\n", i, regV0+i)
	}
	fmt.Fprintf(&b, `<reg name="fpsr" bitsize="32" type="int" regnum="%d"/>
<reg name="fpcr" bitsize="32" type="int" regnum="%d"/>
</feature>
</target>
`, regFPSR, regFPCR)
	return b.String()
}
