module github.com/restauth/restauth/e2e

go 1.26.0

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/restauth/restauth v0.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/alexedwards/scs/v2 v2.9.0 // indirect
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/oauth2 v0.38.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

replace github.com/restauth/restauth => ../
