module github.com/restauth/restauth/redislimit

go 1.26.0

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/restauth/restauth v0.1.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/alexedwards/scs/v2 v2.9.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	github.com/wneessen/go-mail v0.7.2 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/oauth2 v0.38.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

