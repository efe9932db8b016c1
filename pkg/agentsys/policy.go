package agentsys

import (
	"path"
	"strings"
	"time"
)

// Caps is a set of capabilities.
type Caps uint16

// Capabilities.
const (
	CapFsBasic Caps = 1 << iota
	CapAudioControl
	CapDocBasic
	CapScreenshot
	CapCapture
	CapAdmin

	CapAll = CapFsBasic | CapAudioControl | CapDocBasic | CapScreenshot | CapCapture | CapAdmin
)

var capNames = [...]string{"FsBasic", "AudioControl", "DocBasic", "Screenshot", "Capture", "Admin"}

// String lists the capabilities, "FsBasic,DocBasic", or "none".
func (c Caps) String() string {
	var parts []string
	for i, n := range capNames {
		if c&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// opCap is the capability each operation needs.
func opCap(op byte) Caps {
	switch op {
	case OpFsList, OpFsRead, OpFsWrite, OpFsStat, OpFsCreate, OpFsDelete:
		return CapFsBasic
	case OpAudioPlay, OpAudioStop, OpAudioVolume:
		return CapAudioControl
	case OpDocNew, OpDocEdit, OpDocSave:
		return CapDocBasic
	case OpScreenshot:
		return CapScreenshot
	case OpRecord:
		return CapCapture
	}
	return CapAdmin
}

// Agent is a registered agent and its policy.
type Agent struct {
	ID      uint16
	Name    string
	Enabled bool
	Caps    Caps
	// Scope is a path prefix ("/tmp/files/") the agent's paths must lie
	// in after cleaning; "" is unrestricted.
	Scope string
	// MaxFileSize bounds offset+len of an FS_WRITE; 0 is unlimited.
	MaxFileSize int64
	// MaxOpsPerSec bounds the agent's operations per second of machine
	// time (a burst of MaxOpsPerSec, then one every 1/MaxOpsPerSec s);
	// 0 is unlimited.
	MaxOpsPerSec int
}

// Agent ids of the built-in agents.
const (
	AgentSystem    uint16 = 0
	AgentAgentd    uint16 = 1
	AgentFiles     uint16 = 2
	AgentDocs      uint16 = 3
	AgentMusic     uint16 = 4
	AgentAssistant uint16 = 5
	AgentTest      uint16 = 0xFFFF
)

// BuiltinAgents returns the spec's agents. The spec fixes ids, names,
// capabilities and scopes; the limits (and the assistant's capabilities,
// which the spec leaves open) are sissim's choice.
func BuiltinAgents() []Agent {
	return []Agent{
		{ID: AgentSystem, Name: "system", Enabled: true, Caps: CapAll},
		{ID: AgentAgentd, Name: "agentd", Enabled: true, Caps: CapFsBasic | CapAudioControl | CapDocBasic,
			MaxFileSize: 16 << 20},
		{ID: AgentFiles, Name: "files_agent", Enabled: true, Caps: CapFsBasic, Scope: "/tmp/files/",
			MaxFileSize: 1 << 20, MaxOpsPerSec: 100},
		{ID: AgentDocs, Name: "docs_agent", Enabled: true, Caps: CapFsBasic | CapDocBasic, Scope: "/tmp/docs/",
			MaxFileSize: 1 << 20, MaxOpsPerSec: 100},
		{ID: AgentMusic, Name: "music_agent", Enabled: true, Caps: CapAudioControl, MaxOpsPerSec: 50},
		{ID: AgentAssistant, Name: "assistant", Enabled: true, Caps: CapFsBasic | CapDocBasic, Scope: "/tmp/",
			MaxFileSize: 64 << 10, MaxOpsPerSec: 20},
		{ID: AgentTest, Name: "test_agent", Enabled: true, Caps: CapAll &^ CapAdmin},
	}
}

// Denial reasons, as printed in "[AgentSys] <OP> denied: <reason>".
const (
	ReasonNotRegistered = "Agent not registered"
	ReasonDisabled      = "Agent disabled"
	ReasonNoCapability  = "Capability not granted"
	ReasonOutsideScope  = "Path outside allowed scope"
	ReasonTooLarge      = "File size exceeds limit"
	ReasonRateLimit     = "Rate limit exceeded"
	ReasonAuth          = "Invalid capability token"
	// ReasonAuditLog refuses any agent, whatever its scope, an operation
	// that would change the audit log (the log is append-only, and only
	// the service appends to it).
	ReasonAuditLog = "Audit log is append-only"
)

// modifies reports whether op changes the file its path names.
func modifies(op byte) bool {
	switch op {
	case OpFsWrite, OpFsCreate, OpFsDelete, OpDocNew, OpDocSave:
		return true
	}
	return false
}

// inScope reports whether the clean absolute path p lies in scope.
func inScope(scope, p string) bool {
	if scope == "" {
		return true
	}
	s := path.Clean(scope)
	if s == "/" {
		return true
	}
	return p == s || strings.HasPrefix(p, s+"/")
}

// bucket is a GCRA token bucket over machine time: burst ops at once,
// then one per interval.
type bucket struct {
	tat time.Duration // theoretical arrival time of the next op
}

// take admits one op at now under rate ops/s, or returns how long to wait.
func (b *bucket) take(now time.Duration, rate int) (ok bool, wait time.Duration) {
	if rate <= 0 {
		return true, 0
	}
	interval := time.Second / time.Duration(rate)
	tau := time.Duration(rate-1) * interval // burst tolerance
	tat := max(b.tat, now)
	if tat-now > tau {
		return false, tat - now - tau
	}
	b.tat = tat + interval
	return true, 0
}
