// fips runs in FIPS 140-3 mode, whose random bit generator is seeded by
// Go's CPU-jitter entropy source (SP 800-90B health tests included), and
// prints what it drew.
//
//go:debug fips140=on
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/fips140"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
)

func main() {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		fmt.Println("rand:", err)
		os.Exit(1)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fmt.Println("ecdsa:", err)
		os.Exit(1)
	}
	h := sha256.Sum256([]byte("sissim"))
	sig, err := ecdsa.SignASN1(rand.Reader, k, h[:])
	if err != nil {
		fmt.Println("sign:", err)
		os.Exit(1)
	}
	fmt.Printf("fips140 %v, random %x, signature verifies: %v\n", fips140.Enabled(), b[:4], ecdsa.VerifyASN1(&k.PublicKey, h[:], sig))
}
