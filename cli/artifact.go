package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newArtifactCmd(g *globals) *cobra.Command {
	var out string
	download := &cobra.Command{
		Use:   "download DIGEST",
		Short: "Download an artifact from the control plane's content-addressed store",
		Long: `Download the bytes stored under a sha256 digest. They are checked against the digest before the file
appears: a mismatch leaves nothing behind.`,
		Example: `  custody artifact download sha256:f8a581d4bce57f792444b2230b5706a6f902fbac19a374e76f6a56f030d35cf2 -o rootfs.tar.gz`,
		Args:    exactArgs(1, "a sha256 digest"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErrorf("--output FILE is required")
			}
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+"-*.part")
			if err != nil {
				return fmt.Errorf("download: %w", err)
			}
			defer os.Remove(tmp.Name())
			n, err := cp.DownloadBlob(cmd.Context(), args[0], tmp)
			if cerr := tmp.Close(); err == nil && cerr != nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return fmt.Errorf("download: %w", err)
			}
			return g.show(map[string]any{"digest": args[0], "file": out, "size": n}, func() {
				g.info("%s (%d bytes) written to %s", args[0], n, out)
			})
		},
	}
	// Shadows the global --output: here it names the file.
	download.Flags().StringVarP(&out, "output", "o", "", "file to write (required)")
	return group("artifact", "Work with the artifacts in the control plane's store", download)
}
