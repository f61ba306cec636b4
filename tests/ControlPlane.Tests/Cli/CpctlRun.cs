using ControlPlane.Cli;

namespace ControlPlane.Tests.Cli;

/// <summary>Runs cpctl in process with captured stdout and stderr.</summary>
internal static class CpctlRun
{
    public static async Task<(int Code, string Out, string Error)> RunAsync(params string[] args)
    {
        using var stdout = new CapturedOutput();
        using var stderr = new CapturedOutput();
        var code = await CpctlApp.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
