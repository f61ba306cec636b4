using ControlPlane.Postgres.Fleet;
using Npgsql;

namespace ControlPlane.Postgres.Instances;

/// <summary>Short administrative sessions as an instance's superuser (no pooling: used once at provisioning).</summary>
internal static class AdminSql
{
    public const int CommandTimeoutSeconds = 30;

    public const string RoleExists = "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)";
    // DDL cannot take parameters; format() quotes them server-side so nothing is string-built here.
    public const string CreateReplicationRole = "SELECT format('CREATE ROLE %I WITH LOGIN REPLICATION PASSWORD %L', $1::text, $2::text)";
    public const string AlterReplicationRole = "SELECT format('ALTER ROLE %I WITH LOGIN REPLICATION PASSWORD %L', $1::text, $2::text)";
    public const string CreatePhysicalSlot =
        "SELECT pg_create_physical_replication_slot($1) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)";
    public const string DatabaseExists = "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)";
    public const string CreateDatabase = "SELECT format('CREATE DATABASE %I', $1::text)";

    public static string ConnectionString(ReplicaEndpoint endpoint, string? database = null, bool pooling = false) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host,
            Port = endpoint.Port,
            Database = database ?? endpoint.Database,
            Username = endpoint.User,
            Password = SecretFile.Read(endpoint.PasswordFile),
            SslMode = endpoint.TlsMode,
            Pooling = pooling,
            Timeout = 10,
            CommandTimeout = CommandTimeoutSeconds,
            ApplicationName = "controlplane-admin",
        }.ConnectionString;

    public static Task<NpgsqlConnection> OpenAsync(ReplicaEndpoint endpoint, CancellationToken ct) =>
        OpenAsync(ConnectionString(endpoint), ct);

    /// <summary>An open connection, or nothing left behind when opening fails.</summary>
    public static async Task<NpgsqlConnection> OpenAsync(string connectionString, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = CommandTimeoutSeconds };
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Runs the statement that <paramref name="formatSql"/> renders server-side from the arguments.</summary>
    public static async Task ExecuteFormattedAsync(NpgsqlConnection connection, string formatSql, CancellationToken ct, params object[] args)
    {
        var statement = (string)(await ScalarAsync(connection, formatSql, ct, args).ConfigureAwait(false))!;
        await using var cmd = new NpgsqlCommand(statement, connection) { CommandTimeout = CommandTimeoutSeconds };
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
