using ControlPlane.Postgres.Instances;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Security;

/// <summary>
/// First start: mint an admin token and leave it in &lt;data-dir&gt;/admin.token (0600), so the README tour needs no
/// manual step. Runs whenever no unscoped admin token is active, so revoking the last one and restarting recovers
/// access for whoever can read the data directory (who owns the catalog anyway).
/// </summary>
internal sealed class AdminTokenBootstrap(
    TokenStore tokens, IOptions<SecurityOptions> security, IOptions<ControlPlaneOptions> options, ILogger<AdminTokenBootstrap> logger)
    : IHostedService
{
    public const string FileName = "admin.token";
    public const string TokenName = "admin";

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (security.Value.InsecureNoAuth)
        {
            logger.LogWarning("AUTHENTICATION IS OFF (ControlPlane:Security:InsecureNoAuth): every caller that reaches the gateway is an admin. Local experiments only.");
            return;
        }
        if (!security.Value.BootstrapAdminToken) return;
        var issued = await tokens.BootstrapAdminAsync(TokenName, cancellationToken);
        if (issued is null) return;
        var path = PathIn(options.Value.DataDirectory);
        await SecretFile.WriteAsync(path, issued.Token, cancellationToken);
        logger.LogInformation("Created admin token {TokenId}; it is in {Path} (readable by its owner only).", issued.Id, path);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
