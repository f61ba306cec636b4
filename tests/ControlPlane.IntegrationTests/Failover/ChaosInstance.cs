using Npgsql;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>One PostgreSQL instance of the tier as the chaos harness reaches it: its own connections, never the silo's.</summary>
public sealed record ChaosInstance(string Name, string Host, int Port, string PasswordFile)
{
    /// <summary>
    /// No pooling: a pooled connection to a dead or frozen instance would hide what a new client sees. TLS required,
    /// as the local fleet's pg_hba demands: with the default (prefer) a handshake that failed on a loaded machine was
    /// retried in plain text and refused by pg_hba (28000), which a test waiting for 53300 took for a failure.
    /// </summary>
    public string ConnectionString(int timeoutSeconds, int commandTimeoutSeconds) => new NpgsqlConnectionStringBuilder
    {
        Host = Host,
        Port = Port,
        Database = "postgres",
        Username = "postgres",
        Password = File.ReadAllText(PasswordFile).Trim(),
        SslMode = SslMode.Require,
        Pooling = false,
        Timeout = timeoutSeconds,
        CommandTimeout = commandTimeoutSeconds,
        CancellationTimeout = -1,
        ApplicationName = "chaos",
    }.ConnectionString;

    public async Task<NpgsqlConnection> OpenAsync(int timeoutSeconds, int commandTimeoutSeconds, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(ConnectionString(timeoutSeconds, commandTimeoutSeconds));
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
