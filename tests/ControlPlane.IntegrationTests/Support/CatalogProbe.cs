using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.IntegrationTests.Support;

/// <summary>Direct questions to one catalog instance, as its superuser, for the HA-catalog tests.</summary>
internal static class CatalogProbe
{
    /// <summary>pg_is_in_recovery() of the instance; throws when it does not answer within <paramref name="timeout"/> (15 s by default).</summary>
    public static async Task<bool> InRecoveryAsync(ReplicaEndpoint endpoint, TimeSpan? timeout = null)
    {
        await using var source = InspectorDataSource.Create(endpoint, "test", timeout ?? TimeSpan.FromSeconds(15));
        await using var connection = await source.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>As <see cref="InRecoveryAsync"/>, null when the instance does not answer within <paramref name="timeout"/>.</summary>
    public static async Task<bool?> TryInRecoveryAsync(ReplicaEndpoint endpoint, TimeSpan timeout)
    {
        try
        {
            return await InRecoveryAsync(endpoint, timeout);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return null;
        }
    }
}
