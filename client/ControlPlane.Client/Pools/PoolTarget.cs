using System.Data;
using Npgsql;

namespace ControlPlane.Client.Pools;

/// <summary>
/// One inner NpgsqlDataSource: one endpoint, one lease tag, one pool size. Replaced, never mutated, when the
/// grant, the lease or the primary changes; the old one is disposed, which closes its idle connections at once and
/// each busy one when its holder closes it (Npgsql), so in-flight work is never cut.
/// </summary>
internal sealed class PoolTarget : IAsyncDisposable
{
    private int _inUse;

    public PoolTarget(NpgsqlConnectionStringBuilder template, string host, int port, int grant, string tag, bool readWrite)
    {
        Host = host;
        Port = port;
        Grant = grant;
        Tag = tag;
        var csb = new NpgsqlConnectionStringBuilder(template.ConnectionString)
        {
            Host = host,
            Port = port,
            MaxPoolSize = Math.Max(1, grant),
            MinPoolSize = 0,
            Pooling = true,
            ApplicationName = tag,
        };
        _owner = new NpgsqlDataSourceBuilder(csb.ConnectionString).BuildMultiHost();
        // Checked once per physical connection: a demoted primary is refused for writes at connect, so the open
        // fails (and is retried after a routing refresh) instead of a statement failing later.
        DataSource = readWrite ? _owner.WithTargetSession(TargetSessionAttributes.ReadWrite) : _owner;
    }

    private readonly NpgsqlMultiHostDataSource _owner;

    public NpgsqlDataSource DataSource { get; }

    public string Host { get; }

    public int Port { get; }

    public int Grant { get; }

    public string Tag { get; }

    public int InUse => Volatile.Read(ref _inUse);

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var connection = await DataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        Interlocked.Increment(ref _inUse);
        var counted = 1;
        connection.StateChange += (_, e) =>
        {
            if (e.CurrentState == ConnectionState.Closed && Interlocked.Exchange(ref counted, 0) == 1) Interlocked.Decrement(ref _inUse);
        };
        return connection;
    }

    public ValueTask DisposeAsync() => _owner.DisposeAsync();
}
