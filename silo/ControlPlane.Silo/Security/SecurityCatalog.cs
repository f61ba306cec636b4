using Npgsql;

namespace ControlPlane.Silo.Security;

/// <summary>The catalog connection the security services share (tokens, audit): one data source, disposed with the host.</summary>
internal sealed class SecurityCatalog(string connectionString) : IAsyncDisposable
{
    /// <summary>Token look-ups sit on every call's path: a short timeout keeps a sick catalog from hanging the gateway.</summary>
    public const int LookupTimeoutSeconds = 5;

    public const int WriteTimeoutSeconds = 10;

    /// <summary>An audit append waits at most this long: the answer to the caller must not wait on the audit log.</summary>
    public const int AuditTimeoutSeconds = 3;

    /// <summary>The catalog's connection string (password included: Npgsql only, never printed).</summary>
    public string ConnectionString { get; } = connectionString;

    // Connecting is bounded too (Npgsql's default is 15 s), and a timed-out command's cancel request is not waited on
    // for long: a stopped catalog answers neither.
    public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
    {
        Timeout = 3,
        CancellationTimeout = 1000,
    }.ConnectionString);

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
