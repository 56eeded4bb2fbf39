package crafting

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"

	"github.com/go-git/go-git/v5"

	"github.com/custody-dev/custody/attestation"
)

// gitHead reads the head commit of the repository holding dir. A directory outside any repository
// has no head (nil, nil): custody runs fine without git.
func gitHead(dir string) (*attestation.Git, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open git repository at %s: %w", dir, err)
	}
	ref, err := repo.Head()
	if err != nil {
		// A repository without commits has no head yet.
		return nil, nil
	}
	commit, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return nil, fmt.Errorf("read git head commit %s: %w", ref.Hash(), err)
	}
	head := &attestation.Git{
		Commit:      commit.Hash.String(),
		AuthorName:  commit.Author.Name,
		AuthorEmail: commit.Author.Email,
		Date:        commit.Author.When.UTC(),
		Message:     commit.Message,
	}
	remotes, err := repo.Remotes()
	if err != nil {
		return nil, fmt.Errorf("read git remotes: %w", err)
	}
	for _, r := range remotes {
		cfg := r.Config()
		if len(cfg.URLs) == 0 {
			continue
		}
		head.Remotes = append(head.Remotes, attestation.GitRemote{Name: cfg.Name, URL: StripCredentials(cfg.URLs[0])})
	}
	sort.Slice(head.Remotes, func(i, j int) bool { return head.Remotes[i].Name < head.Remotes[j].Name })
	return head, nil
}

// scpUserinfo matches the user part of an scp-like git URL (git@host:path); "git@" is not a secret
// but a token in that place would be.
var scpUserinfo = regexp.MustCompile(`^[^@/]+@`)

// StripCredentials removes any user and password from a remote URL, so a token embedded in a CI
// clone URL (https://x-access-token:...@github.com/...) never reaches an attestation.
func StripCredentials(raw string) string {
	u, err := url.Parse(raw)
	if err == nil && u.Scheme != "" && u.Host != "" {
		u.User = nil
		return u.String()
	}
	// scp-like syntax: user@host:path
	return scpUserinfo.ReplaceAllString(raw, "")
}
