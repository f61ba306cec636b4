namespace ControlPlane.Cli.Common;

/// <summary>What cpctl's exit status means; scripts depend on these, so they never change.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The control plane answered with an error status (NOT_FOUND, INVALID_ARGUMENT, ...).</summary>
    public const int Refused = 1;

    /// <summary>The command line was wrong; nothing was sent.</summary>
    public const int Usage = 2;

    /// <summary>The control plane could not be reached.</summary>
    public const int Unreachable = 3;

    /// <summary>A one-shot command was interrupted with Ctrl-C (128 + SIGINT, as shells do).</summary>
    public const int Interrupted = 130;

    public const string HelpText = """
        Exit codes:
          0    success (for watch: stopped with Ctrl-C)
          1    the control plane refused the request; stderr has "error: <STATUS_CODE>: <message>"
               (for commands that follow an operation: it failed; for archive: it falls short;
               for change lint: the lint found at least one error; for audit-security: a check of
               severity high fails; for consistency: a mismatch; for verify: a step failed;
               for parity diff: the schemas differ; for parity status/check: a tenant schema drifted;
               for tenant probe: a leak; for tenant audit: a critical finding)
          2    bad usage: unknown command or option, invalid name, invalid endpoint URL
               (for change lint/plan-local: the migration set cannot be read: missing directory,
               bad file name, duplicate version, malformed SQL)
          3    the control plane is unreachable (is the silo running?)
          130  interrupted with Ctrl-C

        Environment:
          CONTROLPLANE_ENDPOINT  endpoint used when --endpoint is not given (default http://127.0.0.1:7400)
          CONTROLPLANE_TOKEN     bearer token used when --token and --token-file are not given
                                 (then ./.controlplane/admin.token, when present)
          NO_COLOR               disables colour
        """;
}
