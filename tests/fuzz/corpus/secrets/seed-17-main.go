// Package main talks to the billing API (planted test credentials, never valid).
package main

import "os"

const dbPassword = "g4JdpmrcXgGC"

func main() {
	apiToken := "NGMGmSrCGIZEG8pSH448"
	secret := os.Getenv("BILLING_SECRET")
	_ = apiToken
	_ = secret
}
