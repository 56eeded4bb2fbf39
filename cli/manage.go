package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/wire"
)

// group is a command that only holds others.
func group(use, short string, children ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: subcommandArgs, RunE: groupRun}
	cmd.AddCommand(children...)
	return cmd
}

// exactArgs requires n positional arguments, as a usage error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %s", cmd.CommandPath(), names)
		}
		return nil
	}
}

// show renders v as JSON with -o json, else calls table.
func (g *globals) show(v any, render func()) error {
	if g.json() {
		return writeJSON(g.env.Stdout, v)
	}
	render()
	return nil
}

func newProjectCmd(g *globals) *cobra.Command {
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a project", Args: exactArgs(1, "a project name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			p, err := cp.CreateProject(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return g.show(p, func() { g.info("project %s created", p.Name) })
		},
	}
	list := &cobra.Command{
		Use: "list", Short: "List projects", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			ps, err := cp.ListProjects(cmd.Context())
			if err != nil {
				return err
			}
			return g.show(ps, func() {
				t := newTable(g.env.Stdout)
				t.AppendHeader(table.Row{"Name", "ID", "Created At"})
				for _, p := range ps {
					t.AppendRow(table.Row{p.Name, p.ID, formatTime(p.CreatedAt)})
				}
				t.Render()
			})
		},
	}
	return group("project", "Manage projects", create, list)
}

func newWorkflowCmd(g *globals) *cobra.Command {
	var project, contractFile, description string
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a workflow with its contract (revision 1)", Args: exactArgs(1, "a workflow name"),
		Example: `  custody workflow create build-and-test --project skynet --contract contract.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if project == "" {
				return usageErrorf("--project is required")
			}
			body, err := contractBody(cmd.Context(), "--contract", contractFile)
			if err != nil {
				return err
			}
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			w, err := cp.CreateWorkflow(cmd.Context(), project, wire.CreateWorkflow{Name: args[0], Description: description, Contract: body})
			if err != nil {
				return err
			}
			return g.show(w, func() {
				g.info("workflow %s/%s created with contract %s revision %d", project, w.Name, w.ContractName, w.LatestRevision)
			})
		},
	}
	create.Flags().StringVar(&project, "project", "", "project of the workflow (required)")
	create.Flags().StringVar(&contractFile, "contract", "", "contract file (YAML or JSON); default: a contract with no materials")
	create.Flags().StringVar(&description, "description", "", "what the workflow is")

	var listProject string
	list := &cobra.Command{
		Use: "list", Short: "List a project's workflows", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if listProject == "" {
				return usageErrorf("--project is required")
			}
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			ws, err := cp.ListWorkflows(cmd.Context(), listProject)
			if err != nil {
				return err
			}
			return g.show(ws, func() {
				t := newTable(g.env.Stdout)
				t.AppendHeader(table.Row{"Name", "Contract", "Revision", "ID", "Created At"})
				for _, w := range ws {
					t.AppendRow(table.Row{w.Name, w.ContractName, w.LatestRevision, w.ID, formatTime(w.CreatedAt)})
				}
				t.Render()
			})
		},
	}
	list.Flags().StringVar(&listProject, "project", "", "project (required)")
	return group("workflow", "Manage workflows, the keys they trust and the CI jobs they trust (OIDC)", create, list, newKeyCmd(g), newTrustCmd(g))
}

func newKeyCmd(g *globals) *cobra.Command {
	var project, pubFile string
	add := &cobra.Command{
		Use: "add WORKFLOW", Short: "Trust a public key for a workflow's key-signed pushes", Args: exactArgs(1, "a workflow name"),
		Example: `  custody workflow key add build-and-test --project skynet --public-key cosign.pub`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if project == "" || pubFile == "" {
				return usageErrorf("--project and --public-key are required")
			}
			pem, err := readInput(cmd.Context(), "--public-key", pubFile, maxPublicKeySize)
			if err != nil {
				return err
			}
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			k, err := cp.AddKey(cmd.Context(), project, args[0], string(pem))
			if err != nil {
				return err
			}
			return g.show(k, func() { g.info("workflow %s/%s trusts key %s", project, args[0], k.Hint) })
		},
	}
	add.Flags().StringVar(&project, "project", "", "project of the workflow (required)")
	add.Flags().StringVar(&pubFile, "public-key", "", "PEM public key file, a cosign.pub (required)")

	var listProject string
	list := &cobra.Command{
		Use: "list WORKFLOW", Short: "List the keys a workflow trusts", Args: exactArgs(1, "a workflow name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if listProject == "" {
				return usageErrorf("--project is required")
			}
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			ks, err := cp.ListKeys(cmd.Context(), listProject, args[0])
			if err != nil {
				return err
			}
			return g.show(ks, func() {
				t := newTable(g.env.Stdout)
				t.AppendHeader(table.Row{"Hint", "ID", "Created At"})
				for _, k := range ks {
					t.AppendRow(table.Row{k.Hint, k.ID, formatTime(k.CreatedAt)})
				}
				t.Render()
			})
		},
	}
	list.Flags().StringVar(&listProject, "project", "", "project of the workflow (required)")

	var removeProject string
	remove := &cobra.Command{
		Use: "remove WORKFLOW KEY", Short: "Stop trusting a key, named by its hint or ID as `key list` shows them", Args: exactArgs(2, "a workflow name and a key hint or ID"),
		Long: "Stop trusting a key for a workflow's key-signed pushes, for instance once it is compromised: pushes signed\n" +
			"with it are refused from now on. Attestations it verified stay stored; they were verified when pushed.",
		Example: `  custody workflow key remove build-and-test --project skynet MEUCIQ...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if removeProject == "" {
				return usageErrorf("--project is required")
			}
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			ks, err := cp.ListKeys(cmd.Context(), removeProject, args[0])
			if err != nil {
				return err
			}
			// The route takes the key's ID (a hint is base64 and may hold a '/'); a key that is not
			// found is asked for anyway, so the refusal is the control plane's (not found, exit 9).
			k := wire.PublicKey{ID: args[1], Hint: args[1]}
			if i := slices.IndexFunc(ks, func(k wire.PublicKey) bool { return k.ID == args[1] || k.Hint == args[1] }); i >= 0 {
				k = ks[i]
			}
			if err := cp.RemoveKey(cmd.Context(), removeProject, args[0], k.ID); err != nil {
				return err
			}
			return g.show(k, func() { g.info("workflow %s/%s no longer trusts key %s (ID %s)", removeProject, args[0], k.Hint, k.ID) })
		},
	}
	remove.Flags().StringVar(&removeProject, "project", "", "project of the workflow (required)")
	return group("key", "Manage the public keys a workflow trusts", add, list, remove)
}

// contractBody reads and checks the contract file a flag names; "" is the default contract.
func contractBody(ctx context.Context, flag, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	_, body, err := readContract(ctx, flag, path)
	return body, err
}

func newContractCmd(g *globals) *cobra.Command {
	var project, file string
	update := &cobra.Command{
		Use: "update WORKFLOW", Short: "Upload the next revision of a workflow's contract", Args: exactArgs(1, "a workflow name"),
		Long:    `Upload a new revision of a workflow's contract. Earlier revisions are kept: runs can pin one with init --revision.`,
		Example: `  custody contract update build-and-test --project skynet --file contract-v2.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if project == "" || file == "" {
				return usageErrorf("--project and --file are required")
			}
			body, err := contractBody(cmd.Context(), "--file", file)
			if err != nil {
				return err
			}
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			rev, err := cp.UpdateContract(cmd.Context(), project, args[0], body)
			if err != nil {
				return err
			}
			return g.show(rev, func() { g.info("contract of %s/%s is at revision %d (%s)", project, args[0], rev.Revision, rev.Digest) })
		},
	}
	update.Flags().StringVar(&project, "project", "", "project of the workflow (required)")
	update.Flags().StringVar(&file, "file", "", "contract file, YAML or JSON (required)")

	var getProject string
	var revision int
	get := &cobra.Command{
		Use: "get WORKFLOW", Short: "Print a revision of a workflow's contract", Args: exactArgs(1, "a workflow name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if getProject == "" {
				return usageErrorf("--project is required")
			}
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			rev, err := cp.GetContract(cmd.Context(), getProject, args[0], revision)
			if err != nil {
				return err
			}
			return g.show(rev, func() { fmt.Fprint(g.env.Stdout, EscapeText(rev.Contract)) })
		},
	}
	get.Flags().StringVar(&getProject, "project", "", "project of the workflow (required)")
	get.Flags().IntVar(&revision, "revision", 0, "revision (default: the latest)")
	return group("contract", "Manage workflow contracts", update, get)
}

func newTokenCmd(g *globals) *cobra.Command {
	var req wire.CreateToken
	create := &cobra.Command{
		Use: "create", Short: "Create an API token (printed once)", Args: noArgs,
		Long: `Create an API token scoped to the org (--admin for management), a project, or one workflow. The token is
printed once: custody keeps only its hash.`,
		Example: `  custody token create --project skynet --workflow build-and-test --expires 720h`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			t, err := cp.CreateToken(cmd.Context(), req)
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(g.env.Stdout, t)
			}
			printLine(g.env.Stdout, "%s", t.Secret)
			g.info("token %s created (%s); it is shown once", t.ID, scope(t.Token))
			return nil
		},
	}
	create.Flags().StringVar(&req.Project, "project", "", "scope the token to a project")
	create.Flags().StringVar(&req.Workflow, "workflow", "", "scope the token to a workflow of --project")
	create.Flags().BoolVar(&req.Admin, "admin", false, "an org-wide token that may manage projects, workflows, contracts, keys and tokens")
	create.Flags().StringVar(&req.ExpiresIn, "expires", "", "lifetime, e.g. 720h (default: never expires)")
	create.Flags().StringVar(&req.Name, "name", "", "a name to recognise the token by")

	list := &cobra.Command{
		Use: "list", Short: "List API tokens (never their secrets)", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			ts, err := cp.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			return g.show(ts, func() {
				t := newTable(g.env.Stdout)
				t.AppendHeader(table.Row{"ID", "Name", "Scope", "Expires At", "Revoked"})
				for _, tk := range ts {
					expires := "never"
					if tk.ExpiresAt != nil {
						expires = formatTime(*tk.ExpiresAt)
					}
					t.AppendRow(table.Row{tk.ID, tk.Name, scope(tk), expires, yesNo(tk.RevokedAt != nil)})
				}
				t.Render()
			})
		},
	}
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke an API token", Args: exactArgs(1, "a token id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			if err := cp.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			return g.show(map[string]string{"revoked": args[0]}, func() { g.info("token %s revoked", args[0]) })
		},
	}
	return group("token", "Manage API tokens", create, list, revoke)
}

func scope(t wire.Token) string {
	switch {
	case t.Admin:
		return "org (admin)"
	case t.Workflow != "":
		return "workflow " + t.Project + "/" + t.Workflow
	case t.Project != "":
		return "project " + t.Project
	}
	return "org"
}
