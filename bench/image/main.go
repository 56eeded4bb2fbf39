// Command image builds the custody image, or the custodyd image, as CI does where no Docker engine
// runs (internal/image: go-containerregistry, the Dockerfile's or Dockerfile.custodyd's file system
// and config) and prints its size:
//
//	go run ./bench/image [-image custody|custodyd] [-oci DIR] [-version v1.2.3]
//
// It prints a markdown table for docs/benchmarks.md: the binary, the busybox (the shell GitLab jobs
// run in; the custody image only), the layer unpacked, and the image as a registry stores it
// (manifest, config and compressed layer), against the image's bound.
// -oci DIR also writes the image to an OCI layout in DIR (crane push DIR ... publishes it).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/custody-dev/custody/internal/image"
)

func main() {
	oci := flag.String("oci", "", "write the image to an OCI layout in this directory")
	version := flag.String("version", "dev", "version the binary and the labels carry")
	which := flag.String("image", "custody", "the image to build: custody (Dockerfile) or custodyd (Dockerfile.custodyd)")
	flag.Parse()
	if err := run(*which, *oci, *version); err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
}

func run(which, oci, version string) error {
	if which != "custody" && which != "custodyd" {
		return fmt.Errorf("-image %q: want custody or custodyd", which)
	}
	dir, err := os.MkdirTemp("", "custody-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, which)
	if err := image.BuildBinary(context.Background(), ".", which, bin, version); err != nil {
		return err
	}
	info, err := os.Stat(bin)
	if err != nil {
		return err
	}
	created := time.Now().UTC().Truncate(time.Second)
	var img v1.Image
	bound := int64(image.MaxCustodydSize)
	if which == "custodyd" {
		img, err = image.BuildCustodyd(image.Options{Binary: bin, Version: version, Created: created})
	} else {
		bound = image.MaxSize
		img, err = image.Build(image.Options{Binary: bin, Version: version, Created: created})
	}
	if err != nil {
		return err
	}
	size, err := image.SizeOf(img)
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	mib := func(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
	fmt.Printf("| what | size |\n|---|---|\n")
	fmt.Printf("| %s binary (static, -trimpath, -s -w) | %s |\n", which, mib(info.Size()))
	if which == "custody" {
		busybox, err := os.Stat(image.DebianBusybox)
		if err != nil {
			return fmt.Errorf("busybox, the image's shell (Debian: apt-get install busybox-static): %w", err)
		}
		fmt.Printf("| busybox (Debian's busybox-static, %s) | %s |\n", image.BusyboxDir, mib(busybox.Size()))
	}
	fmt.Printf("| image unpacked (the layer, uncompressed: `docker images`) | %s |\n", mib(size.Unpacked))
	fmt.Printf("| image stored and pulled (manifest, config, gzip layer) | %s (bound %s) |\n", mib(size.Stored), mib(bound))
	fmt.Printf("\nimage %s\n", digest)
	if oci != "" {
		p, err := layout.Write(oci, empty.Index)
		if err != nil {
			return err
		}
		if err := p.AppendImage(img); err != nil {
			return err
		}
		fmt.Printf("written to the OCI layout %s\n", oci)
	}
	if size.Stored > bound {
		return fmt.Errorf("the image is %s, over %s", mib(size.Stored), mib(bound))
	}
	return nil
}
