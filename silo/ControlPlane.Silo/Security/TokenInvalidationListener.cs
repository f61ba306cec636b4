using ControlPlane.Silo.Catalog;
using Npgsql;

namespace ControlPlane.Silo.Security;

/// <summary>
/// One connection per silo that LISTENs on the catalog's 'controlplane_tokens' channel (migration 0005) and drops
/// the announced token id from the <see cref="TokenCache"/>. Whenever it (re)connects it drops the whole cache
/// first: notices sent while it was not listening are lost for good. While the catalog is known unreachable the
/// connection is given up, because a silent connection then proves nothing; the cache is served as it stands
/// (bounded staleness, docs/security.md) and dropped again when the listener is back.
/// </summary>
internal sealed class TokenInvalidationListener(
    TokenCache cache, CatalogHealth health, SecurityCatalog catalog, ILogger<TokenInvalidationListener> logger) : BackgroundService
{
    public const string Channel = "controlplane_tokens";

    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(catalog.ConnectionString)
        {
            Pooling = false,
            Timeout = 3,
            CommandTimeout = 3,
            CancellationTimeout = -1,
            ApplicationName = "controlplane-token-listener",
        }.ConnectionString;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (health.IsReachable)
                {
                    await ListenAsync(connectionString, stoppingToken);
                    failures = 0;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
            {
                if (failures++ == 0) logger.LogWarning("Token invalidation listener lost the catalog: {Error}; cached tokens are served only while the catalog is unreachable", CatalogErrors.Clean(ex.Message));
            }
            finally
            {
                cache.SetListening(false);
            }
            try
            {
                await Task.Delay(Poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ListenAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        connection.Notification += (_, e) =>
        {
            if (e.Channel == Channel) cache.Invalidate(e.Payload);
        };
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(ct);
        }
        // Listening from here on: whatever changed before is unknown, so nothing cached before may be trusted.
        cache.Clear();
        cache.SetListening(true);
        logger.LogInformation("Token invalidation listener connected; token cache cleared");
        while (!ct.IsCancellationRequested && health.IsReachable)
        {
            await connection.WaitAsync(Poll, ct);
        }
    }
}
