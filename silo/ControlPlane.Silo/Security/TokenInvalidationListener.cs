using ControlPlane.Silo.Catalog;
using Npgsql;

namespace ControlPlane.Silo.Security;

/// <summary>
/// One connection per silo that LISTENs on the catalog's 'controlplane_tokens' channel (migration 0005) and drops
/// the announced token id from the <see cref="TokenCache"/>. Whenever it (re)connects it drops the whole cache
/// first: notices sent while it was not listening are lost for good. While the catalog is known unreachable the
/// connection is given up, because a silent connection then proves nothing; the cache is served as it stands
/// (bounded staleness, docs/security.md) and dropped again when the listener is back.
/// <para>
/// Every <see cref="Heartbeat"/> it makes a round trip on the listening connection and confirms it to the cache
/// (<see cref="TokenCache.Confirm"/>): a connection that went silent without failing stops being trusted after
/// <see cref="TokenCache.TrustWindow"/>, and a round trip that hangs ends with the command timeout, a reconnect and
/// a dropped cache.
/// </para>
/// </summary>
internal sealed class TokenInvalidationListener(
    TokenCache cache, CatalogHealth health, SecurityCatalog catalog, ILogger<TokenInvalidationListener> logger) : BackgroundService
{
    public const string Channel = "controlplane_tokens";

    /// <summary>How often the listening connection proves it is alive; well inside <see cref="TokenCache.TrustWindow"/>.</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(250);

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
        var begun = cache.Now();
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(ct);
        }
        // Listening from here on: whatever changed before is unknown, so nothing cached before may be trusted.
        cache.Clear();
        cache.SetListening(true);
        cache.Confirm(begun);
        logger.LogInformation("Token invalidation listener connected; token cache cleared");
        await using var ping = new NpgsqlCommand("SELECT 1", connection);
        var next = DateTime.UtcNow + Heartbeat;
        while (!ct.IsCancellationRequested && health.IsReachable)
        {
            var wait = next - DateTime.UtcNow;
            if (wait > TimeSpan.Zero && await connection.WaitAsync(wait, ct)) continue;
            begun = cache.Now();
            // Notices queued for this backend are delivered before its answer, so success confirms everything up to 'begun'.
            await ping.ExecuteNonQueryAsync(ct);
            cache.Confirm(begun);
            next = DateTime.UtcNow + Heartbeat;
        }
    }
}
