using ControlPlane.Postgres.Fleet;
using Npgsql;

namespace ControlPlane.Postgres.Instances;

/// <summary>
/// The one-connection pool an inspector (pools, monitoring) keeps to its replica: named by its application name so it
/// shows in pg_stat_activity, every command bounded, and no cancel request to a frozen server (the connection breaks
/// instead).
/// </summary>
public static class InspectorDataSource
{
    public static NpgsqlDataSource Create(ReplicaEndpoint endpoint, string applicationName, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var seconds = (int)Math.Max(1, Math.Ceiling(timeout.TotalSeconds));
        return NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host,
            Port = endpoint.Port,
            Database = endpoint.Database,
            Username = endpoint.User,
            Password = SecretFile.Read(endpoint.PasswordFile),
            SslMode = endpoint.TlsMode,
            ApplicationName = applicationName,
            MaxPoolSize = 1,
            Timeout = seconds,
            CommandTimeout = seconds,
            CancellationTimeout = -1,
        }.ConnectionString);
    }

    /// <summary>Every row of <paramref name="sql"/> mapped by <paramref name="map"/>; parameters by name.</summary>
    public static async Task<IReadOnlyList<T>> ReadAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> map,
        CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows.Add(map(reader));
        return rows;
    }
}
