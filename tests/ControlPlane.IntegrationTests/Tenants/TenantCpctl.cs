using ControlPlane.Cli;
using ControlPlane.IntegrationTests.Support;

namespace ControlPlane.IntegrationTests.Tenants;

/// <summary>cpctl in process against the fixture's silo, as the admin: the exit code and what it printed.</summary>
internal static class TenantCpctl
{
    public static async Task<(int Exit, string Output, string Error)> RunAsync(SiloFixture fixture, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CpctlApp.RunAsync([.. args, "--endpoint", fixture.Endpoint, "--token-file", fixture.AdminTokenFile], stdout, stderr, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
