package client

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/wire"
)

// UploadBlob streams a blob to the CAS while hashing it, in one read: the digest goes in an HTTP
// trailer once the body is sent, the control plane compares it with its own and keeps nothing on a
// mismatch. body returns the bytes from the start; it is called again when a transient failure
// makes the upload start over.
func (c *Client) UploadBlob(ctx context.Context, body func() (io.Reader, error)) (cas.Hashed, error) {
	var hr *hashingReader
	trailer := http.Header{}
	resp, err := c.do(ctx, request{
		method: http.MethodPost, path: "/v1/blobs", contentType: "application/octet-stream",
		body: func() (io.Reader, error) {
			r, err := body()
			if err != nil {
				return nil, err
			}
			trailer.Del(wire.DigestHeader)
			hr = &hashingReader{r: r, h: sha256.New(), trailer: trailer}
			return hr, nil
		},
		trailer: func() http.Header { trailer[wire.DigestHeader] = nil; return trailer },
	})
	if err != nil {
		return cas.Hashed{}, fmt.Errorf("upload blob: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return cas.Hashed{}, fmt.Errorf("upload blob: %w", problemOf(resp))
	}
	var blob wire.Blob
	if err := decodeAnswer(resp, &blob); err != nil {
		return cas.Hashed{}, fmt.Errorf("upload blob: %w", err)
	}
	mine := hr.hashed()
	if blob.Digest != string(mine.Digest) || blob.Size != mine.Size {
		return cas.Hashed{}, fmt.Errorf("upload blob: the control plane stored %s (%d bytes), this file is %s (%d bytes)",
			blob.Digest, blob.Size, mine.Digest, mine.Size)
	}
	return mine, nil
}

// hashingReader hashes what it reads and, at EOF, sets the digest trailer.
type hashingReader struct {
	r       io.Reader
	h       hash.Hash
	n       int64
	trailer http.Header
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	hr.h.Write(p[:n])
	hr.n += int64(n)
	if err == io.EOF {
		hr.trailer.Set(wire.DigestHeader, string(cas.NewDigest(hr.h.Sum(nil))))
	}
	return n, err
}

func (hr *hashingReader) hashed() cas.Hashed {
	return cas.Hashed{Digest: cas.NewDigest(hr.h.Sum(nil)), Size: hr.n}
}

// DownloadBlob writes the blob's bytes to w and checks they hash to digest; on a mismatch the error
// says so and the caller must discard what was written.
func (c *Client) DownloadBlob(ctx context.Context, digest string, w io.Writer) (int64, error) {
	d, err := cas.ParseDigest(digest)
	if err != nil {
		return 0, err
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/blobs/" + url.PathEscape(string(d))})
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", digest, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("download %s: %w", digest, problemOf(resp))
	}
	got, err := cas.Hash(resp.Body, w)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", digest, err)
	}
	if got.Digest != d {
		return 0, fmt.Errorf("download %s: received bytes hash to %s", digest, got.Digest)
	}
	return got.Size, nil
}
