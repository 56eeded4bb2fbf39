package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/wire"
)

func newLoginCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "login",
		Short: "Check a control plane and token, and remember them",
		Long: `Check the control plane at --control-plane accepts the token (--token or CUSTODY_TOKEN), then write both to
the config file ($XDG_CONFIG_HOME/custody/config.json, mode 0600), so later commands need neither.`,
		Example: `  custody login --control-plane https://custody.example.com --token cst_...`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url, token, err := g.connection()
			if err != nil {
				return err
			}
			if url == "" || token == "" {
				return usageErrorf("login needs --control-plane and --token (or CUSTODY_CONTROL_PLANE and CUSTODY_TOKEN)")
			}
			cp, err := g.newClient(url, token)
			if err != nil {
				return err
			}
			who, err := cp.WhoAmI(cmd.Context())
			if err != nil {
				return err
			}
			if err := g.saveSettings(settings{ControlPlane: cp.BaseURL(), Token: token}); err != nil {
				return err
			}
			return g.show(who, func() {
				g.info("logged in to %s with token %s (%s); saved in %s", cp.BaseURL(), wire.RedactToken(token), scope(who.Token), g.configPath())
			})
		},
	}
}

func newConfigCmd(g *globals) *cobra.Command {
	set := &cobra.Command{
		Use: "set KEY VALUE", Short: "Set control-plane or token in the config file", Args: exactArgs(2, "a key and a value"),
		Example: `  custody config set control-plane http://127.0.0.1:8080`,
		RunE: func(_ *cobra.Command, args []string) error {
			s, err := g.loadSettings()
			if err != nil {
				return err
			}
			switch args[0] {
			case "control-plane":
				if _, err := client.New(args[1], ""); err != nil {
					return usageErrorf("%v", err)
				}
				s.ControlPlane = args[1]
			case "token":
				if !strings.HasPrefix(args[1], wire.TokenPrefix) {
					return usageErrorf("token: a custody token starts with %s", wire.TokenPrefix)
				}
				s.Token = args[1]
			default:
				return usageErrorf("unknown key %q: want control-plane or token", args[0])
			}
			if err := g.saveSettings(s); err != nil {
				return err
			}
			g.info("%s saved in %s", args[0], g.configPath())
			return nil
		},
	}
	view := &cobra.Command{
		Use: "view", Short: "Show the configuration in effect (the token redacted)", Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			url, token, err := g.connection()
			if err != nil {
				return err
			}
			if token != "" {
				token = wire.RedactToken(token)
			}
			v := map[string]string{"controlPlane": url, "token": token, "file": g.configPath()}
			return g.show(v, func() {
				printLine(g.env.Stdout, "control-plane: %s", url)
				printLine(g.env.Stdout, "token: %s", token)
				printLine(g.env.Stdout, "file: %s", g.configPath())
			})
		},
	}
	return group("config", "Manage the CLI's configuration", set, view)
}
