package image

import (
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The custodyd image, as Dockerfile.custodyd describes it: a static custodyd on an empty base with
// Debian's CA certificates (custodyd reaches OCI registries and OIDC issuers over https), no shell,
// run as a non-root user that owns the data directory and nothing else.
const (
	CustodydBinaryPath = "/usr/local/bin/custodyd"
	// CustodydUID is the user (and group) custodyd runs as: distroless's "nonroot", so clusters'
	// policies that allow that uid allow this image.
	CustodydUID  = 65532
	CustodydUser = "65532:65532"
	// CustodydDataDir is the data directory (CUSTODY_DATA_DIR): the user's own, mode 0700. With the
	// embedded defaults it holds the SQLite database, the filesystem CAS and the generated CA and
	// TSA; at scale only the OCI CAS's spool. A volume mounted there starts with its owner and mode.
	CustodydDataDir = "/var/lib/custodyd"
	// CustodydPort is where custodyd listens in the container (CUSTODY_LISTEN), on every interface.
	CustodydPort = 8080
	// MaxCustodydSize bounds the custodyd image as a registry stores it (manifest, config and
	// compressed layer), as MaxSize does custody's.
	MaxCustodydSize = 20 << 20
)

// The custodyd image's users: root, and the one it runs as, whose home is the data directory.
var (
	custodydPasswd = "root:x:0:0:root:/root:/sbin/nologin\ncustodyd:x:" + strconv.Itoa(CustodydUID) + ":" + strconv.Itoa(CustodydUID) +
		":custodyd:" + CustodydDataDir + ":/sbin/nologin\n"
	custodydGroup = "root:x:0:\ncustodyd:x:" + strconv.Itoa(CustodydUID) + ":\n"
)

// CustodydEnv, CustodydEntrypoint and CustodydExposedPort are the custodyd image config's: it
// listens on every interface of the container (custodyd's own default is loopback) and keeps its
// data in CustodydDataDir.
var (
	CustodydEnv         = []string{"CUSTODY_LISTEN=:" + strconv.Itoa(CustodydPort), "CUSTODY_DATA_DIR=" + CustodydDataDir}
	CustodydEntrypoint  = []string{CustodydBinaryPath}
	CustodydExposedPort = strconv.Itoa(CustodydPort) + "/tcp"
)

// CustodydLabels are the custodyd image's OCI labels.
func CustodydLabels(version, revision string, created time.Time) map[string]string {
	l := Labels(version, revision, created)
	l["org.opencontainers.image.title"] = "custodyd"
	l["org.opencontainers.image.description"] = "custodyd: custody's control plane (workflows, contracts, runs, attestations, CAS, CA and timestamp authority)"
	l["org.opencontainers.image.documentation"] = "https://github.com/custody-dev/custody/blob/main/docs/deploy.md"
	return l
}

// BuildCustodyd returns the custodyd image: one layer with the root file system, the config of
// Dockerfile.custodyd. opts.Binary is custodyd; opts.Busybox is not used (the image has no shell).
func BuildCustodyd(opts Options) (v1.Image, error) {
	binary, certs, err := opts.inputs("custodyd")
	if err != nil {
		return nil, err
	}
	fs := append(rootFiles(custodydPasswd, custodydGroup, certs, CustodydBinaryPath, binary),
		file{name: "var/", mode: 0o755 | tarDir},
		file{name: "var/lib/", mode: 0o755 | tarDir},
		file{name: strings.TrimPrefix(CustodydDataDir, "/") + "/", mode: 0o700 | tarDir, uid: CustodydUID, gid: CustodydUID})
	return assemble(fs, opts.Created, opts.Platform, "custodyd "+opts.Version, v1.Config{
		Entrypoint:   CustodydEntrypoint,
		Env:          CustodydEnv,
		User:         CustodydUser,
		ExposedPorts: map[string]struct{}{CustodydExposedPort: {}},
		Labels:       CustodydLabels(opts.Version, opts.Revision, opts.Created),
	})
}
