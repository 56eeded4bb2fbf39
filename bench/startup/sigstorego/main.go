// Command sigstorego links what custody links sigstore-go for (bundles, trusted material,
// verification) and nothing else, then exits: the start-up that sigstore-go's own dependencies (Rekor's
// types and REST client, go-openapi, govalidator, gRPC, certificate-transparency) cost every custody
// command, for bench/startup.
package main

import (
	"fmt"

	_ "github.com/sigstore/sigstore-go/pkg/bundle"
	_ "github.com/sigstore/sigstore-go/pkg/root"
	_ "github.com/sigstore/sigstore-go/pkg/verify"
)

func main() { fmt.Println("sigstore-go linked") }
