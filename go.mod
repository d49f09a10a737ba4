module github.com/skimmer-mcp/skimmer-mcp

go 1.26

require (
	github.com/lmittmann/tint v1.2.1
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
