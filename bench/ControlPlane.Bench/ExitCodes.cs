namespace ControlPlane.Bench;

/// <summary>What the tool's exit code means.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The benchmark ran but did not reach its goal (errors during load, fleet never healthy).</summary>
    public const int Failed = 1;
    public const int Usage = 2;
    /// <summary>Interrupted by Ctrl-C or SIGTERM; child processes were stopped.</summary>
    public const int Interrupted = 130;
}
