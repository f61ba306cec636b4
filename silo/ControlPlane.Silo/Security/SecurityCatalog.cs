using Npgsql;

namespace ControlPlane.Silo.Security;

/// <summary>The catalog connection the security services share (tokens, audit): one data source, disposed with the host.</summary>
internal sealed class SecurityCatalog(string connectionString) : IAsyncDisposable
{
    /// <summary>Token look-ups sit on every call's path: a short timeout keeps a sick catalog from hanging the gateway.</summary>
    public const int LookupTimeoutSeconds = 5;

    public const int WriteTimeoutSeconds = 10;

    public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(connectionString);

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
