module github.com/sis-kernel/sissim

go 1.26.0

require github.com/stretchr/testify v1.12.1

require (
	github.com/spf13/afero v1.15.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/term v0.47.0 // indirect
	golang.org/x/text v0.28.0 // indirect
)
