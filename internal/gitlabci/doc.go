// Package gitlabci tests custody's GitLab CI/CD components (templates/) and the pipelines that use
// them (examples/gitlab/). Its tests check each component's spec:inputs the way GitLab does (real
// GitLab refuses an unknown input, a missing one, a value of the wrong type or one its regex does not
// match; gitlab-ci-local checks only some of it), generate the components' READMEs and the inputs
// tables of docs/gitlab.md from the specs, and run the examples under gitlab-ci-local against a
// custodyd process on 127.0.0.1: `include: component:` resolves to this repository's templates/,
// jobs run in a shell with the custody binary the test built, and the bundles they push verify. Other
// tests run the components' jobs in the custody image itself (internal/image, unpacked, entered with
// chroot as its user), as GitLab's Docker executor would, and check that every command the scripts
// call is in it.
//
// The package holds no code outside its tests.
package gitlabci
