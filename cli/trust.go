package cli

import (
	"maps"
	"slices"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/wire"
)

func newTrustCmd(g *globals) *cobra.Command {
	var project, issuer string
	var claims []string
	add := &cobra.Command{
		Use: "add WORKFLOW", Short: "Trust the CI jobs whose OIDC ID tokens match an issuer and claims", Args: exactArgs(1, "a workflow name"),
		Long: `Let CI jobs exchange their OIDC ID token for a short-lived credential of the workflow, with no secret stored,
when the token comes from --issuer and every --claim matches. A value may be a glob (path.Match: * ? [a-z],
and * stops at /). A policy must pin the repository or project (repository, repository_owner_id, project_path
or sub) with a literal owner: repository_owner_id keeps trusting the same owner after a rename, and refuses an
account that took the old name. Several policies of a workflow: any one that matches is enough.

GitHub Actions claims: repository, repository_owner_id, ref, job_workflow_ref, workflow_ref, environment,
runner_environment, and any other string claim by name. GitLab: project_path, ref, ref_protected,
ci_config_ref_uri, environment.`,
		Example: `  custody workflow trust add build-and-test --project skynet \
    --issuer https://token.actions.githubusercontent.com \
    --claim repository=acme/app --claim repository_owner_id=1342004 --claim ref=refs/heads/main
  custody workflow trust add build-and-test --project skynet --issuer https://gitlab.com \
    --claim project_path=acme/app --claim ref_protected=true`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if project == "" || issuer == "" || len(claims) == 0 {
				return usageErrorf("--project, --issuer and at least one --claim are required")
			}
			pinned, err := parseClaims(claims)
			if err != nil {
				return err
			}
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			tp, err := cp.AddTrustPolicy(cmd.Context(), project, args[0], wire.TrustPolicy{Issuer: issuer, Claims: pinned})
			if err != nil {
				return err
			}
			return g.show(tp, func() {
				g.info("workflow %s/%s trusts ID tokens of %s with %s (policy %s)", project, args[0], tp.Issuer, claimList(tp.Claims), tp.ID)
			})
		},
	}
	add.Flags().StringVar(&project, "project", "", "project of the workflow (required)")
	add.Flags().StringVar(&issuer, "issuer", "", "the CI's OIDC issuer URL, exactly as its tokens name it (required)")
	add.Flags().StringArrayVar(&claims, "claim", nil, "name=value (or name=glob) the token must hold; repeatable (at least one)")

	var listProject string
	list := &cobra.Command{
		Use: "list WORKFLOW", Short: "List a workflow's OIDC trust policies", Args: exactArgs(1, "a workflow name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if listProject == "" {
				return usageErrorf("--project is required")
			}
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			ps, err := cp.ListTrustPolicies(cmd.Context(), listProject, args[0])
			if err != nil {
				return err
			}
			return g.show(ps, func() {
				t := newTable(g.env.Stdout)
				t.AppendHeader(table.Row{"ID", "Issuer", "Claims", "Created At"})
				for _, p := range ps {
					t.AppendRow(table.Row{p.ID, p.Issuer, claimList(p.Claims), formatTime(p.CreatedAt)})
				}
				t.Render()
			})
		},
	}
	list.Flags().StringVar(&listProject, "project", "", "project of the workflow (required)")

	var removeProject string
	remove := &cobra.Command{
		Use: "remove WORKFLOW ID", Short: "Remove a workflow's OIDC trust policy, named by its ID as `trust list` shows it", Args: exactArgs(2, "a workflow name and a policy ID"),
		Long: "Remove a trust policy: ID tokens only it matched are no longer exchanged. Credentials exchanged before\n" +
			"live out their (at most 15) minutes.",
		Example: `  custody workflow trust remove build-and-test 5f0c2d7e-... --project skynet`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if removeProject == "" {
				return usageErrorf("--project is required")
			}
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			if err := cp.RemoveTrustPolicy(cmd.Context(), removeProject, args[0], args[1]); err != nil {
				return err
			}
			return g.show(map[string]string{"removed": args[1]}, func() {
				g.info("workflow %s/%s no longer has trust policy %s", removeProject, args[0], args[1])
			})
		},
	}
	remove.Flags().StringVar(&removeProject, "project", "", "project of the workflow (required)")
	return group("trust", "Manage the OIDC trust policies that let CI jobs act for a workflow without a stored secret", add, list, remove)
}

// parseClaims reads --claim name=value flags (split at the first '=').
func parseClaims(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		switch {
		case !ok || name == "":
			return nil, usageErrorf("--claim %q: want name=value", f)
		case value == "":
			return nil, usageErrorf("--claim %s=: give the value (or glob) the claim must have", name)
		}
		if _, dup := out[name]; dup {
			return nil, usageErrorf("--claim %s is given twice: a claim has one value (a glob matches several)", name)
		}
		out[name] = value
	}
	return out, nil
}

// claimList renders claims as name=value, by name.
func claimList(claims map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(claims)) {
		parts = append(parts, k+"="+claims[k])
	}
	return strings.Join(parts, ", ")
}
