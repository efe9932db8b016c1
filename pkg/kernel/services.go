package kernel

// The SIS services (AgentSys, the model registry, the autonomy loop,
// OpenTelemetry, the LLM service) live in their own packages and never
// import the kernel. Each is wired into the machine by one svc_*.go file
// of this package, which hands it the narrow interfaces it needs (the
// machine clock, the VFS as an afero.Fs, a logger) and registers its shell
// commands.

// services holds the started services of a machine; a field is nil while
// its service is not started.
type services struct {
	// One field per service, set by its Start (svc_*.go).
}

// DefaultServices returns the SIS services in boot order, for
// BootConfig.Services. Services whose feature is disabled are skipped at
// boot.
func DefaultServices() []Service {
	return []Service{
		// One entry per service (svc_*.go), in boot order.
	}
}
